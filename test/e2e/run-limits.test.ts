import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeAnthropic } from "../fakes/anthropic.ts";
import { reply } from "../fakes/server.ts";
import {
  agentExecutionContainer,
  agentSandboxesGone,
  containersWith,
  executionContainerGone,
} from "../harness/docker.ts";
import { createRun, followRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack } from "../harness/stack.ts";

// How runs end when a limit, a cancel or a lost sandbox ends them.
const KEY = "sk-ant-test-key-limits";
let stack: Stack;
let anthropic: FakeAnthropic;

beforeAll(async () => {
  anthropic = await FakeAnthropic.start({ apiKey: KEY });
  stack = await startStack("e2e-rlim", 2, 2, {
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: anthropic.url,
  });
});
afterAll(async () => {
  await stack?.stop();
  await anthropic?.close();
});
beforeEach(async () => {
  // Start each test with none of this stack's sandboxes left from the one before.
  for (const agent of ["e2e-rlim-1", "e2e-rlim-2"]) await agentSandboxesGone(agent);
});
afterEach(() => {
  anthropic.reset();
  expect(anthropic.violations).toEqual([]);
});

describe("run limits", () => {
  it("ends failed with max_iterations when the coder never fixes its code", async () => {
    anthropic.setDefault(reply.toolUse("run_code", { code: "raise ValueError('still broken')" }));
    const id = await createRun(stack.api, { task: "Never works.", planner: null, maxIterations: 3 });
    const { view, events } = await runToEnd(stack.api, id);
    expect(view).toMatchObject({ status: "failed", iterations: 3, error: { reason: "max_iterations" } });
    expect(events.filter((e) => e.type === "execution.finished")).toHaveLength(3);
  });

  it("counts a malformed tool call as an iteration and tells the coder what was wrong", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { program: "print(1)" }),
      reply.toolUse("run_code", { code: "print('fixed call')" }),
      reply.toolUse("finish", { summary: "ok", code: "print('fixed call')", verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Print.", planner: null });
    const { view, events } = await runToEnd(stack.api, id);
    expect(view).toMatchObject({ status: "succeeded", iterations: 2 });
    const rejected = events.find((e) => e.type === "tool.rejected");
    expect(rejected?.type === "tool.rejected" && rejected.payload.message).toContain(
      "arguments of run_code are invalid",
    );
  });

  it("ends failed with token_budget", async () => {
    anthropic.setDefault(reply.toolUse("run_code", { code: "print(1)" }, { usage: { input: 600, output: 600 } }));
    const id = await createRun(stack.api, { task: "Spend.", planner: null, tokenBudget: 2000 });
    const { view } = await runToEnd(stack.api, id);
    expect(view).toMatchObject({ status: "failed", error: { reason: "token_budget" } });
    expect(view.usage.total.inputTokens + view.usage.total.outputTokens).toBe(2400);
  });

  it("ends timed_out at timeoutMs, even in the middle of an execution", async () => {
    anthropic.enqueue(reply.toolUse("run_code", { code: "import time\ntime.sleep(60)" }));
    const t0 = performance.now();
    const id = await createRun(stack.api, { task: "Sleep.", planner: null, timeoutMs: 3000 });
    const { view } = await runToEnd(stack.api, id, 15_000);
    expect(view).toMatchObject({ status: "timed_out", error: { reason: "timed_out" } });
    expect(performance.now() - t0).toBeLessThan(6000);
  });

  it("cancels during a long execution, and the container is gone within 2 s", async () => {
    anthropic.enqueue(reply.toolUse("run_code", { code: "import time\nprint('start', flush=True)\ntime.sleep(60)" }));
    const id = await createRun(stack.api, { task: "Sleep long.", planner: null });
    // Ties go to the lowest agent id: the execution runs on e2e-rlim-1.
    const { executionId } = await agentExecutionContainer("e2e-rlim-1", 15_000);
    const res = await stack.api.raw(`/v1/runs/${id}/cancel`, "");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("cancelled");
    await executionContainerGone(executionId, 2_000);
    const { view } = await runToEnd(stack.api, id);
    expect(view).toMatchObject({ status: "cancelled", error: { reason: "cancelled" } });
  });

  it("fails no_sandbox_available after its queue wait when no agent serves the pool", async () => {
    anthropic.enqueue(reply.toolUse("run_code", { code: "print(1)" }));
    const began = performance.now();
    const id = await createRun(stack.apiB, {
      task: "Nowhere to run.",
      planner: null,
      limits: { queueTimeoutMs: 1_500 },
    });
    const { view, events } = await runToEnd(stack.apiB, id);
    expect(view).toMatchObject({ status: "failed", error: { reason: "no_sandbox_available" } });
    expect(view.error?.message).toContain("no_agents");
    // It waited in the pool's queue, once, instead of polling.
    expect(performance.now() - began).toBeGreaterThanOrEqual(1_500);
    expect(events.some((e) => e.type === "execution.retry")).toBe(false);
  });
});

describe("an agent lost mid-execution", () => {
  it("retries the execution once on another agent, without counting it as an iteration", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { code: "import time\nprint('begun', flush=True)\ntime.sleep(3)\nprint('survived')" }),
      reply.toolUse("finish", { summary: "ran", code: "…", verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Run somewhere.", planner: null });
    // Ties go to the lowest agent id, so the first attempt lands on e2e-rlim-1.
    await agentExecutionContainer("e2e-rlim-1", 15_000);
    await stack.agent("e2e-rlim-1").stop("SIGKILL");
    const events = [];
    for await (const e of followRun(stack.api, id)) events.push(e);
    const retry = events.find((e) => e.type === "execution.retry");
    expect(retry).toMatchObject({ payload: { reason: "agent_lost", attempt: 1 } });
    const finished = events.filter((e) => e.type === "execution.finished");
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({
      payload: { agentId: "e2e-rlim-2", status: "succeeded", stdout: "begun\nsurvived\n" },
    });
    const { view } = await runToEnd(stack.api, id);
    expect(view).toMatchObject({ status: "succeeded", iterations: 1 });

    // The killed agent could not remove its sandboxes; started again under its
    // id, it removes them before it takes work.
    const crashed = stack.agent("e2e-rlim-1");
    const left = await containersWith("edgeswarm.agent", "e2e-rlim-1");
    expect(left.length).toBeGreaterThan(0);
    await crashed.restart();
    expect(crashed.proc.log.all.join("\n")).toMatch(
      /removed \d+ sandbox container\(s\) left by an earlier run of e2e-rlim-1/,
    );
    const now = await containersWith("edgeswarm.agent", "e2e-rlim-1");
    expect(now.filter((c) => left.includes(c))).toEqual([]);
  });
});
