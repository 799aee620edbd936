import type { RunEvent, RunEventOf } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FakeAnthropic } from "../fakes/anthropic.ts";
import { FakeModels } from "../fakes/models.ts";
import { reply } from "../fakes/server.ts";
import { Api } from "../harness/api.ts";
import { anthropicToolResults, createRun, followRun, getRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";

// A run as its watchers see it while it works: live output, a reply's calls
// run at once, and approval of each call, with the real Worker, agents and
// Docker, and a fake Anthropic server the real SDK talks to.
/** A tenant on the agents' pool that may run one execution at a time. */
const ONE_AT_A_TIME = { key: "test-key-live-serial-0005", tenant: "tenant-serial" };

let stack: Stack;
let models: FakeModels;
let anthropic: FakeAnthropic;

beforeAll(async () => {
  models = await FakeModels.start("e2e-live");
  ({ anthropic } = models);
  stack = await startStack(
    "e2e-live",
    1,
    3,
    {
      ...models.vars,
      EDGESWARM_TENANT_LIMITS: JSON.stringify({ [ONE_AT_A_TIME.tenant]: { concurrentExecutions: 1 } }),
    },
    { apiKeys: { [ONE_AT_A_TIME.key]: { tenant: ONE_AT_A_TIME.tenant, pools: [TENANTS.a.pool] } } },
  );
});
afterEach(() => {
  models?.reset();
});
afterAll(async () => {
  await stack?.stop();
  await models?.close();
});

const finish = reply.toolUse("finish", { summary: "done", code: "", verdict: "success" });

function of<T extends RunEvent["type"]>(events: RunEvent[], type: T): RunEventOf<T>[] {
  return events.filter((e) => e.type === type) as RunEventOf<T>[];
}

describe("live runs", () => {
  it("streams a program's output while it runs, well before it finishes", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", {
        code: "import sys, time\nprint('first', flush=True)\ntime.sleep(2)\nprint('second')\nprint('oops', file=sys.stderr)",
      }),
      finish,
    );
    const id = await createRun(stack.api, { task: "Print twice.", planner: null });
    const arrived: { event: RunEvent; at: number }[] = [];
    for await (const event of followRun(stack.api, id)) arrived.push({ event, at: Date.now() });
    const events = arrived.map((a) => a.event);

    const started = of(events, "execution.started");
    const output = of(events, "execution.output");
    const [finished] = of(events, "execution.finished");
    expect(started).toHaveLength(1);
    expect(started[0]?.payload).toMatchObject({ toolCallId: "call_1", executionId: finished?.payload.executionId });
    expect(started[0]?.payload.agentId).toBe(finished?.payload.agentId);
    const firstOut = arrived.find((a) => a.event.type === "execution.output");
    const end = arrived.find((a) => a.event.type === "execution.finished");
    expect(firstOut?.event).toMatchObject({ payload: { stream: "stdout", data: "first\n" } });
    // The program sleeps 2 s between its lines: the first reached the caller during the sleep.
    expect((end?.at ?? 0) - (firstOut?.at ?? 0)).toBeGreaterThan(1500);
    expect((started[0]?.seq ?? 0) < (firstOut?.event.seq ?? 0)).toBe(true);
    const text = (stream: string) =>
      output
        .filter((e) => e.payload.stream === stream)
        .map((e) => e.payload.data)
        .join("");
    expect(text("stdout")).toBe("first\nsecond\n");
    expect(text("stderr")).toBe("oops\n");
    expect(output.every((e) => e.seq < (finished?.seq ?? 0) && e.payload.cut === undefined)).toBe(true);
  });

  it("keeps at most 256 KiB of an execution's live output in the log, and says where it was cut", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { code: "import sys\nfor i in range(40):\n    sys.stdout.write('x' * 10000)" }),
      finish,
    );
    const id = await createRun(stack.api, {
      task: "Print a lot.",
      planner: null,
      limits: { outputBytes: 1024 * 1024 },
    });
    const { events } = await runToEnd(stack.api, id);
    const output = of(events, "execution.output");
    const logged = output.reduce((n, e) => n + e.payload.data.length, 0);
    expect(logged).toBe(256 * 1024);
    expect(output.at(-1)?.payload.cut).toBe(true);
    expect(output.filter((e) => e.payload.cut).length).toBe(1);
    const [finished] = of(events, "execution.finished");
    expect(finished?.payload.status).toBe("succeeded");
  });

  it("runs a reply's two run_code calls at once, each in its own sandbox, results in call order", async () => {
    const call = (name: string, seconds: number) =>
      `import time\ntime.sleep(${seconds})\nopen('${name}.txt', 'w').write('${name}')\nopen('both.txt', 'w').write('${name}')\nprint('${name} done')`;
    anthropic.enqueue(
      reply.toolCalls([
        { name: "run_code", input: { code: call("one", 1.2) } },
        { name: "run_code", input: { code: call("two", 1) } },
      ]),
      (request) => {
        const results = anthropicToolResults(request.body);
        if (results.length !== 2 || !results[0]?.includes("one done") || !results[1]?.includes("two done")) {
          return reply.error(400, `both results, in call order, did not reach the coder: ${JSON.stringify(results)}`);
        }
        return reply.toolUse("run_code", {
          code: "print(open('both.txt').read(), open('one.txt').read(), open('two.txt').read())",
        });
      },
      finish,
    );
    const id = await createRun(stack.api, { task: "Run two things.", planner: null, maxIterations: 5 });
    const { view, events } = await runToEnd(stack.api, id);
    expect(anthropic.violations).toEqual([]);
    expect(view.status).toBe("succeeded");
    expect(view.iterations).toBe(3);

    const started = of(events, "execution.started").filter((e) => e.payload.toolCallId !== "call_3");
    const finished = of(events, "execution.finished").filter((e) => e.payload.toolCallId !== "call_3");
    expect(finished.map((e) => e.payload.toolCallId)).toEqual(["call_1", "call_2"]);
    expect(new Set(finished.map((e) => e.payload.executionId)).size).toBe(2);
    // Both began before either ended: they ran at once, not one after the other.
    const lastStart = Math.max(...started.map((e) => e.seq));
    expect(started).toHaveLength(2);
    expect(lastStart).toBeLessThan(Math.min(...finished.map((e) => e.seq)));
    const wall = Date.parse(finished.at(-1)?.at ?? "") - Date.parse(started[0]?.at ?? "");
    expect(wall).toBeLessThan(2000); // one after the other, they would take at least 2.2 s
    // Each saw the workspace as of the reply; the later call's write of a shared path is kept.
    expect(view.result?.stdout).toBe("two one two\n");
  });

  it("runs no more of a reply's calls at once than the tenant's concurrentExecutions", async () => {
    anthropic.enqueue(
      reply.toolCalls([
        { name: "run_code", input: { code: "open('a.txt', 'w').write('from the first')\nprint('first')" } },
        { name: "run_code", input: { code: "print(open('a.txt').read())" } },
      ]),
      finish,
    );
    const api = new Api(stack.worker.url, ONE_AT_A_TIME.key);
    const id = await createRun(api, { task: "Two calls, one slot.", planner: null, maxIterations: 5 });
    const { view, events } = await runToEnd(api, id);
    expect(view.status).toBe("succeeded");
    const started = of(events, "execution.started");
    const finished = of(events, "execution.finished");
    expect(finished.map((e) => [e.payload.toolCallId, e.payload.status])).toEqual([
      ["call_1", "succeeded"],
      ["call_2", "succeeded"],
    ]);
    // The second began after the first ended, and so saw what it wrote.
    expect(started[1]?.seq).toBeGreaterThan(finished[0]?.seq ?? Number.POSITIVE_INFINITY);
    expect(finished[1]?.payload.stdout).toBe("from the first\n");
    expect(of(events, "execution.retry")).toEqual([]);
  });

  it("asks about each of a reply's calls, and runs only those approved", async () => {
    anthropic.enqueue(
      reply.toolCalls([
        { name: "run_code", input: { code: "print('kept')" } },
        { name: "run_code", input: { code: "print('refused')" } },
      ]),
      (request) => {
        const results = anthropicToolResults(request.body);
        if (!results[0]?.includes("kept") || !results[1]?.includes("denied")) {
          return reply.error(400, `the decisions did not reach the coder: ${JSON.stringify(results)}`);
        }
        return finish;
      },
    );
    const id = await createRun(stack.api, { task: "Two calls.", planner: null, approval: "always", maxIterations: 5 });
    const asked: string[] = [];
    for await (const e of followRun(stack.api, id)) {
      if (e.type === "approval.requested") asked.push(e.payload.toolCallId);
      if (asked.length === 2) break;
    }
    expect(asked).toEqual(["call_1", "call_2"]);
    const decide = (body: object) => stack.api.raw(`/v1/runs/${id}/approval`, JSON.stringify(body));

    expect((await decide({ approve: false, reason: "no", toolCallId: "call_2" })).status).toBe(200);
    expect((await getRun(stack.api, id)).status).toBe("awaiting_approval");
    const again = await decide({ approve: true, toolCallId: "call_2" });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "invalid_state" } });
    expect((await decide({ approve: true })).status).toBe(200);

    const { view, events } = await runToEnd(stack.api, id);
    expect(view.status).toBe("succeeded");
    expect(of(events, "execution.finished").map((e) => e.payload.toolCallId)).toEqual(["call_1"]);
    expect(anthropic.violations).toEqual([]);
  });
});

describe("the coder's context", () => {
  const ITERATIONS = 12;
  /** A program that prints 40 KB. */
  const LOUD = "for i in range(1000):\n    print(f'{i:05d} ' + 'y' * 33)";

  /** Scripts a coder that runs LOUD `ITERATIONS` times, then finishes; returns its requests' bodies. */
  function loudCoder(tag: string): unknown[] {
    const bodies: unknown[] = [];
    anthropic.setDefault((request) => {
      if (!JSON.stringify(request.body).includes(`[case:${tag}]`)) return reply.error(400, "not this test's run");
      bodies.push(request.body);
      return bodies.length <= ITERATIONS ? reply.toolUse("run_code", { code: LOUD }) : finish;
    });
    return bodies;
  }

  /** The message blocks of a request marked for the cache. */
  const marked = (body: unknown) =>
    (body as { messages: { content: unknown }[] }).messages.flatMap((m) =>
      Array.isArray(m.content) ? m.content.filter((b: { cache_control?: unknown }) => b.cache_control) : [],
    );

  it("marks the stable prefix and one turn for the cache, and reports what the cache read", async () => {
    anthropic.measureUsage = true;
    anthropic.measured.length = 0;
    try {
      const bodies = loudCoder("cached");
      const id = await createRun(stack.api, {
        task: "[case:cached] Print a lot, twelve times.",
        planner: null,
        maxIterations: ITERATIONS,
      });
      const { view } = await runToEnd(stack.api, id, 120_000);
      expect(view.status).toBe("succeeded");
      expect(view.iterations).toBe(ITERATIONS);
      expect(bodies).toHaveLength(ITERATIONS + 1);
      for (const body of bodies) {
        expect((body as { system: unknown }).system).toEqual([
          expect.objectContaining({ type: "text", cache_control: { type: "ephemeral" } }),
        ]);
        expect(marked(body)).toEqual([expect.objectContaining({ cache_control: { type: "ephemeral" } })]);
      }
      // What the run reports is what the fake's cache, by the prefix rule, said it read and wrote.
      const sum = (k: "input" | "cacheRead" | "cacheWrite") => anthropic.measured.reduce((n, u) => n + u[k], 0);
      // Every request after the first reads what the one before it wrote: the prefix, then the digests too.
      const reads = anthropic.measured.map((u) => u.cacheRead);
      expect(reads[0]).toBe(0);
      expect(reads.slice(1).every((n) => n > 0)).toBe(true);
      expect(reads[ITERATIONS - 1] ?? 0).toBeGreaterThan(reads[4] ?? 0);
      expect(view.usage.coder).toMatchObject({
        cacheReadTokens: sum("cacheRead"),
        cacheWriteTokens: sum("cacheWrite"),
        inputTokens: sum("input") + sum("cacheRead") + sum("cacheWrite"),
      });
      expect(view.usage.total.cacheReadTokens).toBe(sum("cacheRead"));
      // The request at iteration 12 is bounded: old results go as digests.
      const size = (i: number) => JSON.stringify(bodies[i]).length;
      expect(size(ITERATIONS - 1)).toBeLessThanOrEqual(2 * size(2));
      expect(JSON.stringify(bodies[ITERATIONS - 1])).toContain("(digest of an earlier result) status: succeeded");
    } finally {
      anthropic.measureUsage = false;
      anthropic.cache.clear();
    }
  }, 180_000);

  it("without caching and digests, marks nothing and the request grows with every result", async () => {
    const bodies = loudCoder("uncached");
    const id = await createRun(stack.api, {
      task: "[case:uncached] Print a lot, twelve times.",
      planner: null,
      maxIterations: ITERATIONS,
      context: { promptCache: false, fullTurns: null },
    });
    const { view } = await runToEnd(stack.api, id, 120_000);
    expect(view.status).toBe("succeeded");
    for (const body of bodies) expect(JSON.stringify(body)).not.toContain("cache_control");
    const size = (i: number) => JSON.stringify(bodies[i]).length;
    expect(size(ITERATIONS - 1)).toBeGreaterThan(3 * size(2));
  }, 180_000);
});
