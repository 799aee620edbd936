import { FakeModels } from "../fakes/models.ts";
import { reply, type Script } from "../fakes/server.ts";
import { anthropicToolResults } from "../harness/runs.ts";

/** Prints the 10th Fibonacci number, 55. */
export const FIB_CODE = "a, b = 0, 1\nfor _ in range(10):\n    a, b = b, a + b\nprint(a)\n";

/**
 * A coder that needs no script per run: its first turn runs `code`, and once a
 * tool result has come back it finishes with `code` as the final code. Any
 * number of runs can use it at once.
 */
export function solvingCoder(code: string, summary = "prints the answer"): Script {
  return (request) =>
    anthropicToolResults(request.body).length === 0
      ? reply.toolUse("run_code", { language: "python", code })
      : reply.toolUse("finish", { summary, code, verdict: "success" });
}

/** A coder that never fixes its code: every turn runs the same failing program. */
export function failingCoder(): Script {
  return () => reply.toolUse("run_code", { language: "python", code: "print(undefined_name)\n" });
}

/** A planner that makes the task one step. */
export const ONE_STEP_PLAN: Script = reply.structured({
  steps: [{ goal: "Compute and print the answer", successCriterion: "the answer is printed" }],
});

/** Both fake model servers, with the answers above as their defaults. */
export async function startModels(): Promise<FakeModels> {
  const models = await FakeModels.start("client-test");
  models.anthropic.setDefault(solvingCoder(FIB_CODE, "prints the 10th Fibonacci number"));
  models.openai.setDefault(ONE_STEP_PLAN);
  return models;
}
