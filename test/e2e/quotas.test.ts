import type { ErrorBody } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeAnthropic } from "../fakes/anthropic.ts";
import { reply } from "../fakes/server.ts";
import { Api } from "../harness/api.ts";
import { pollUntil } from "../harness/poll.ts";
import { createRun, followRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";

// Tenant quotas (EDGESWARM_TENANT_LIMITS): each answers as docs/sharing.md says, and
// touches no other tenant.
const KEY = "sk-ant-test-key-quotas";
const TENANT = {
  concurrent: { key: "test-key-concurrent-01", tenant: "tenant-c" },
  runs: { key: "test-key-active-runs-01", tenant: "tenant-r" },
  models: { key: "test-key-models-only-01", tenant: "tenant-m" },
} as const;

let stack: Stack;
let anthropic: FakeAnthropic;
const api: Partial<Record<keyof typeof TENANT, Api>> = {};

beforeAll(async () => {
  anthropic = await FakeAnthropic.start({ apiKey: KEY });
  stack = await startStack(
    "e2e-quota",
    1,
    4,
    {
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: anthropic.url,
      EDGESWARM_TENANT_LIMITS: JSON.stringify({
        [TENANT.concurrent.tenant]: { concurrentExecutions: 1 },
        [TENANT.runs.tenant]: { activeRuns: 1 },
        [TENANT.models.tenant]: { models: ["claude-haiku-*", "claude-opus-4-1"] },
      }),
    },
    {
      apiKeys: Object.fromEntries(
        Object.values(TENANT).map((t) => [t.key, { tenant: t.tenant, pools: [TENANTS.a.pool] }]),
      ),
    },
  );
  for (const [name, t] of Object.entries(TENANT)) api[name as keyof typeof TENANT] = new Api(stack.worker.url, t.key);
}, 120_000);
afterEach(() => {
  anthropic.reset();
});
afterAll(async () => {
  await stack?.stop();
  await anthropic?.close();
});

const get = (name: keyof typeof TENANT): Api => api[name] as Api;

async function expectQuota(res: Response, quota: string, limit: number): Promise<void> {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = (await res.json()) as ErrorBody;
  expect(body.error).toMatchObject({ code: "quota_exceeded", details: { quota, limit } });
}

/** An execution's time on its agent, from its SSE events: when it started and when it finished. */
async function timed(client: Api, code: string, queueTimeoutMs = 30_000): Promise<{ start: number; end: number }> {
  let start = 0;
  for await (const e of client.stream({ language: "python", code, queueTimeoutMs })) {
    if (e.type === "started") start = e.at;
    if (e.type === "finished") {
      expect(e.result.status).toBe("succeeded");
      return { start, end: e.at };
    }
  }
  throw new Error("no finished event");
}

const SLEEP = "import time\ntime.sleep(1)\nprint('done')";

describe("tenant quotas", () => {
  it("concurrentExecutions: one at a time for tenant-c, while another tenant runs two at once", async () => {
    const [c1, c2, a1, a2] = await Promise.all([
      timed(get("concurrent"), SLEEP),
      timed(get("concurrent"), SLEEP),
      timed(stack.api, SLEEP),
      timed(stack.api, SLEEP),
    ]);
    const [first, second] = [c1, c2].sort((x, y) => x.start - y.start) as [typeof c1, typeof c2];
    // The agent had room for all four; tenant-c's second waited for its first.
    expect(second.start).toBeGreaterThanOrEqual(first.end - 50);
    expect(Math.max(a1.start, a2.start)).toBeLessThan(Math.min(a1.end, a2.end));
  });

  it("concurrentExecutions: over it with no wait allowed, 429 quota_exceeded", async () => {
    const holding = timed(get("concurrent"), "import time\ntime.sleep(3)");
    // Once the first is running, a second that may not wait is refused.
    const refused = await pollUntil(
      async () => {
        const res = await get("concurrent").raw(
          "/v1/executions",
          JSON.stringify({ language: "python", code: "print(1)", queueTimeoutMs: 0 }),
        );
        if (res.status !== 200) return res;
        await res.body?.cancel();
      },
      { timeoutMs: 5_000, what: "a second execution of tenant-c to be refused" },
    );
    await expectQuota(refused, "concurrentExecutions", 1);
    // Another tenant is not held to tenant-c's quota.
    expect(await stack.api.execute({ language: "python", code: "print('a')", queueTimeoutMs: 0 })).toMatchObject({
      status: "succeeded",
    });
    await holding;
  });

  it("activeRuns: a second run while one is going is refused; once it ends, a new one is taken", async () => {
    anthropic.setDefault(reply.toolUse("run_code", { code: "print('parked')" }));
    const first = await createRun(get("runs"), { task: "Park for approval.", planner: null, approval: "always" });
    for await (const e of followRun(get("runs"), first)) if (e.type === "approval.requested") break;

    const second = await get("runs").raw("/v1/runs", JSON.stringify({ task: "One too many.", planner: null }));
    await expectQuota(second, "activeRuns", 1);
    // Other tenants are not held to it.
    const other = await createRun(stack.api, { task: "Park for approval.", planner: null, approval: "always" });
    await stack.api.raw(`/v1/runs/${other}/cancel`, "");

    expect((await get("runs").raw(`/v1/runs/${first}/cancel`, "")).status).toBe(200);
    await runToEnd(get("runs"), first);
    // The run's end reaches the tenant's list as the run reports it (a moment after the answer).
    const next = await pollUntil(
      async () => {
        const res = await get("runs").raw(
          "/v1/runs",
          JSON.stringify({ task: "Park again.", planner: null, approval: "always" }),
        );
        if (res.status !== 429) return res;
        await res.body?.cancel();
      },
      { timeoutMs: 5_000, what: "a new run of tenant-r to be taken" },
    );
    expect(next.status).toBe(201);
    const { id } = (await next.json()) as { id: string };
    await get("runs").raw(`/v1/runs/${id}/cancel`, "");
  });

  it("models: a model off the tenant's list is refused 403 on the operator's keys, and allowed on its own server", async () => {
    const refused = await get("models").raw("/v1/runs", JSON.stringify({ task: "t", planner: null }));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      error: { code: "model_not_allowed", details: { role: "coder", model: "claude-sonnet-4-6" } },
    });
    const planner = await get("models").raw(
      "/v1/runs",
      JSON.stringify({
        task: "t",
        planner: { provider: "openai", model: "o3-mini", baseUrl: "http://127.0.0.1:9/v1" },
        coder: { provider: "anthropic", model: "claude-opus-4-5" },
      }),
    );
    expect(planner.status).toBe(403);

    anthropic.setDefault(reply.toolUse("finish", { summary: "done", code: "", verdict: "success" }));
    for (const coder of [
      { provider: "anthropic", model: "claude-haiku-4-5" }, // a prefix on the list
      { provider: "anthropic", model: "claude-opus-4-1" }, // a name on the list
    ] as const) {
      const id = await createRun(get("models"), { task: "t", planner: null, coder });
      expect((await runToEnd(get("models"), id)).view.status, JSON.stringify(coder)).toBe("succeeded");
    }
    // Any model on a server the request names: it never gets the operator's keys.
    const own = await createRun(get("models"), {
      task: "t",
      planner: null,
      coder: { provider: "openai-compatible", model: "anything-at-all", baseUrl: "http://127.0.0.1:9/v1" },
    });
    await get("models").raw(`/v1/runs/${own}/cancel`, "");
    // Every tenant without a list may use any model.
    const id = await createRun(stack.api, { task: "t", planner: null });
    expect((await runToEnd(stack.api, id)).view.status).toBe("succeeded");
  });
});
