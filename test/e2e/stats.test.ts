import type { TenantStats } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeModels } from "../fakes/models.ts";
import { reply } from "../fakes/server.ts";
import { pollUntil } from "../harness/poll.ts";
import { createRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack } from "../harness/stack.ts";

// GET /v1/stats after a scripted mix of executions and runs, against the real
// Worker and agent, real Docker and the fake model servers.
let stack: Stack;
let models: FakeModels;

beforeAll(async () => {
  models = await FakeModels.start("stats");
  stack = await startStack("e2e-stats", 1, 2, models.vars);
});
afterAll(async () => {
  await stack?.stop();
  await models?.close();
});

const CODER = { input: 13, output: 7 };
const PLANNER = { input: 41, output: 11 };

async function stats(api = stack.api, window = "15m"): Promise<TenantStats> {
  const res = await api.get(`/v1/stats?window=${window}`);
  expect(res.status).toBe(200);
  return (await res.json()) as TenantStats;
}

describe("GET /v1/stats", () => {
  it("counts a tenant's executions, runs and tokens exactly, with sane percentiles", async () => {
    for (const code of ["print(1)", "print(2)", "print(3)", "raise SystemExit(1)", "raise SystemExit(2)"]) {
      await stack.api.execute({ language: "python", code });
    }
    const slow = await stack.api.execute({
      language: "python",
      code: "while True: pass",
      limits: { timeoutMs: 1_000 },
    });
    expect(slow.status).toBe("timed_out");

    // A run that succeeds (no planner), and one that fails at its iteration limit (with a planner).
    models.anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "print('ok')" }, { usage: CODER }),
      reply.toolUse("finish", { summary: "printed", code: "print('ok')", verdict: "success" }, { usage: CODER }),
    );
    const ok = await createRun(stack.api, { task: "Print ok.", planner: null });
    const okView = (await runToEnd(stack.api, ok)).view;
    expect(okView.status).toBe("succeeded");
    models.openai.enqueue(reply.structured({ steps: [{ goal: "fail", successCriterion: "never" }] }, PLANNER));
    models.anthropic.setDefault(
      reply.toolUse("run_code", { language: "python", code: "raise SystemExit(3)" }, { usage: CODER }),
    );
    const bad = await createRun(stack.api, { task: "Fail.", maxIterations: 1 });
    const badView = (await runToEnd(stack.api, bad)).view;
    expect(badView).toMatchObject({ status: "failed", error: { reason: "max_iterations" } });
    models.reset();

    const coderCalls = models.anthropic.requests.length;
    const executions = 6 + okView.iterations + badView.iterations;
    const s = await pollUntil(
      async () => {
        const now = await stats();
        return now.executions.total === executions && now.runs.total === 2 ? now : undefined;
      },
      { timeoutMs: 20_000, what: "the stats to count every execution and run" },
    );
    expect(s.window).toBe("15m");
    expect(s.executions.byStatus).toEqual({ succeeded: 4, failed: 3, timed_out: 1 });
    expect(s.runs.byStatus).toEqual({ succeeded: 1, failed: 1 });
    expect(s.tokens.byRole).toEqual({
      coder: { input: coderCalls * CODER.input, output: coderCalls * CODER.output },
      planner: PLANNER,
    });
    expect(s.tokens.byModel).toEqual({
      "claude-sonnet-4-6": { input: coderCalls * CODER.input, output: coderCalls * CODER.output },
      "o3-mini": PLANNER,
    });
    // What the runs themselves report is what the stats add up.
    expect(okView.usage.coder.inputTokens + badView.usage.coder.inputTokens).toBe(coderCalls * CODER.input);
    expect(s.agents).toEqual([
      { id: "e2e-stats-1", executions, errors: 0, durationMs: { p50: expect.any(Number), p99: expect.any(Number) } },
    ]);

    const d = s.executions.durationMs;
    expect(d.p50).toBeGreaterThan(0);
    expect(d.p50).toBeLessThanOrEqual(d.p95);
    expect(d.p95).toBeLessThanOrEqual(d.p99);
    expect(d.p50).toBeLessThan(1_000); // most executions are quick
    expect(d.p99).toBeGreaterThanOrEqual(500); // the one that ran to its 1 s timeout
    expect(s.runs.durationMs.p50).toBeGreaterThan(0);
    expect(s.runs.iterations.p50).toBeGreaterThanOrEqual(1);
    expect(s.runs.iterations.p95).toBeLessThanOrEqual(2);

    // The series adds up to the totals.
    const perMinute = s.series.flatMap((p) => Object.values(p.executions)).reduce((a, b) => a + b, 0);
    expect(perMinute).toBe(executions);
    expect(s.series.length).toBe(15);

    // Another tenant sees none of it.
    const other = await stats(stack.apiB);
    expect(other.executions.total).toBe(0);
    expect(other.runs.total).toBe(0);
    expect(other.agents).toEqual([]);
    expect(other.tokens).toEqual({ byRole: {}, byModel: {} });

    const day = await stats(stack.api, "24h");
    expect(day.executions.total).toBe(executions);
    expect(day.series.length).toBe(96);
  });

  it("refuses a window it does not keep, and a caller without a key", async () => {
    const res = await stack.api.get("/v1/stats?window=7d");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
    expect((await fetch(`${stack.worker.url}/v1/stats`)).status).toBe(401);
  });
});
