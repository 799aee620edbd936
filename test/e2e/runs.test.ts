import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeAnthropic } from "../fakes/anthropic.ts";
import { FakeOpenAI } from "../fakes/openai.ts";
import { reply } from "../fakes/server.ts";
import { anthropicToolResults, createRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack } from "../harness/stack.ts";

// The swarm end to end: the real Worker and agents, real Docker, and fake model
// servers that the real SDKs talk to over HTTP.
const ANTHROPIC_KEY = "sk-ant-test-key-0001";
const OPENAI_KEY = "sk-openai-test-key-0001";
let stack: Stack;
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;

beforeAll(async () => {
  anthropic = await FakeAnthropic.start({ apiKey: ANTHROPIC_KEY });
  openai = await FakeOpenAI.start({ apiKey: OPENAI_KEY });
  stack = await startStack("e2e-runs", 1, 2, {
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: anthropic.url,
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: `${openai.url}/v1`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await anthropic?.close();
  await openai?.close();
});

describe("runs", () => {
  it("heals itself: the traceback reaches the coder, the fix succeeds after 2 executions", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "values = [3, 4]\nprint(sum(values) / len(valuez))\n" }),
      (request) => {
        const results = anthropicToolResults(request.body);
        if (!results.some((r) => r.includes("NameError: name 'valuez' is not defined"))) {
          return reply.error(400, `the traceback did not reach the coder: ${JSON.stringify(results)}`);
        }
        return reply.toolUse("run_code", {
          language: "python",
          code: "values = [3, 4]\nprint(sum(values) / len(values))\n",
        });
      },
      reply.toolUse("finish", {
        summary: "prints the mean, 3.5",
        code: "print(sum(values) / len(values))",
        verdict: "success",
      }),
    );
    const id = await createRun(stack.api, { task: "Print the mean of 3 and 4.", planner: null });
    const { view, events } = await runToEnd(stack.api, id);
    expect(view.error).toBeNull();
    expect(view.status).toBe("succeeded");
    expect(view.iterations).toBe(2);
    expect(view.result).toMatchObject({ stdout: "3.5\n", summary: "prints the mean, 3.5" });
    const executions = events.filter((e) => e.type === "execution.finished");
    expect(executions.map((e) => e.payload.status)).toEqual(["failed", "succeeded"]);
    expect(view.usage.coder.inputTokens).toBeGreaterThan(0);
    expect(anthropic.violations).toEqual([]);
  });
});
