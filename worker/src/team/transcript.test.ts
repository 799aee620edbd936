import { ToolCallSummary } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { foldRun } from "../run/state.ts";
import { log, created as runCreated } from "../run/test-log.ts";
import { turnSummaries } from "./transcript.ts";

const model = { provider: "anthropic" as const, model: "m", baseUrl: null };
const team = {
  kind: "round_robin" as const,
  participants: [
    {
      name: "ann",
      role: "coder" as const,
      model,
      instructions: null,
      description: null,
      tools: ["run_code"],
      handoffs: [],
    },
  ],
  termination: { maxMessages: 5 },
  defaultTermination: false,
  selector: null,
  orchestrator: null,
};

describe("turnSummaries", () => {
  it("fits what a hostile model and program produce into the summary's bounds", () => {
    const s = foldRun(
      log(
        runCreated({ team }),
        [
          "participant.replied",
          {
            speaker: "ann",
            turn: 0,
            text: "",
            toolCalls: [
              { id: "call_1", name: "x".repeat(128), input: {} },
              { id: "call_2", name: "run_code", input: { code: "print(1)" } },
            ],
            usage: { inputTokens: 1, outputTokens: 1 },
          },
        ],
        ["tool.rejected", { step: 0, toolCallId: "call_1", name: "x", message: "m".repeat(10_000) }],
        [
          "execution.finished",
          {
            step: 0,
            iteration: 1,
            toolCallId: "call_2",
            executionId: null,
            agentId: "a",
            language: "python",
            status: "succeeded",
            exitCode: 0,
            signal: null,
            durationMs: 1,
            stdout: `${"a".repeat(50_000)}END`,
            stderr: "",
            truncated: { stdout: false, stderr: false },
            files: Array.from({ length: 30 }, (_, i) => `${"d/".repeat(400)}${i}`),
            error: null,
          },
        ],
      ),
    );
    const summaries = turnSummaries(s);
    for (const summary of summaries) expect(() => ToolCallSummary.parse(summary)).not.toThrow();
    expect(summaries.map((c) => c.status)).toEqual(["rejected", "succeeded"]);
    expect(summaries[1]?.stdout).toMatch(/^a{600}\n…\(48803 characters cut\)…\na{597}END$/);
    expect(summaries[1]?.files).toHaveLength(10);
  });
});
