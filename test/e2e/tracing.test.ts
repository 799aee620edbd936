import { randomBytes } from "node:crypto";
import type { RunEvent } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LineLog, waitForLine, within } from "../../scripts/lib/wait.ts";
import { FakeModels } from "../fakes/models.ts";
import { reply } from "../fakes/server.ts";
import { groupRss } from "../harness/memory.ts";
import { OtlpReceiver, type ReceivedSpan } from "../harness/otlp.ts";
import { byCase, type CoderScript, createRun, followRun, getRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack } from "../harness/stack.ts";

// End to end: workerd through wrangler and a real agent export their spans over
// OTLP/HTTP to a receiver that decodes the real wire formats.

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const PROGRAM = { language: "python" as const, code: "print('traced')\n" };

async function tracedStack(prefix: string, receiver: OtlpReceiver, otel: Record<string, string>): Promise<Stack> {
  const vars = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, ...otel };
  const stack = await startStack(prefix, 0, 2, vars);
  try {
    await stack.startAgent({ id: `${prefix}-1`, env: vars });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}

async function post(stack: Stack, headers: Record<string, string>) {
  const res = await fetch(`${stack.worker.url}/v1/executions`, {
    method: "POST",
    headers: stack.api.headers(headers),
    body: JSON.stringify(PROGRAM),
  });
  expect(res.status).toBe(200);
  return { traceparent: res.headers.get("traceparent") ?? "", body: (await res.json()) as { traceId?: string } };
}

const AGENT_PHASES = ["container.acquire", "program.run", "result.collect", "container.remove"];

function one(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0] as ReceivedSpan;
}

/** Every span the pool and the agent make for one execution that did not wait for a slot. */
const EXECUTION_SPANS = ["pool.lease", "execute", ...AGENT_PHASES];
const has = (spans: ReceivedSpan[], names: string[]) => names.every((n) => spans.some((s) => s.name === n));
/** …and the request's own, for POST /v1/executions. */
const executionComplete = (spans: ReceivedSpan[]) => has(spans, ["POST /v1/executions", ...EXECUTION_SPANS]);

for (const protocol of ["http/protobuf", "http/json"] as const) {
  describe(`an execution traced over OTLP ${protocol}`, () => {
    const prefix = `e2e-trace-${protocol === "http/json" ? "json" : "pb"}`;
    let receiver: OtlpReceiver;
    let stack: Stack;
    beforeAll(async () => {
      receiver = await OtlpReceiver.start();
      stack = await tracedStack(prefix, receiver, {
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      });
    });
    afterAll(async () => {
      await stack?.stop();
      await receiver?.close();
    });

    it("continues the caller's trace from the Worker into the agent, and answers with it", async () => {
      const traceId = hex(16);
      const callerSpan = hex(8);
      const before = Date.now();
      const { traceparent, body } = await post(stack, {
        traceparent: `00-${traceId}-${callerSpan}-01`,
        tracestate: "caller=1",
      });
      expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(body.traceId).toBe(traceId);

      const spans = await receiver.waitForTrace(traceId, executionComplete);
      expect(new Set(spans.map((s) => s.encoding))).toEqual(new Set([protocol === "http/json" ? "json" : "protobuf"]));

      const server = one(spans, "POST /v1/executions");
      expect(server).toMatchObject({ service: "edgeswarm-worker", kind: 2, parentSpanId: callerSpan });
      expect(server.attributes).toMatchObject({
        "http.request.method": "POST",
        "http.route": "/v1/executions",
        "http.response.status_code": 200,
        "edgeswarm.tenant": "tenant-a",
      });
      // The answer names the server span.
      expect(traceparent.slice(36, 52)).toBe(server.spanId);

      const lease = one(spans, "pool.lease");
      expect(lease).toMatchObject({ service: "edgeswarm-worker", parentSpanId: server.spanId });
      expect(lease.attributes["edgeswarm.agent.id"]).toBe(`${prefix}-1`);

      const execute = one(spans, "execute");
      expect(execute).toMatchObject({ service: "edgeswarm-agent", kind: 5, parentSpanId: lease.spanId });
      expect(execute.attributes).toMatchObject({ "edgeswarm.execution.status": "succeeded", "process.exit.code": 0 });

      for (const phase of AGENT_PHASES) {
        expect(one(spans, phase)).toMatchObject({ service: "edgeswarm-agent", parentSpanId: execute.spanId });
      }
      const remove = one(spans, "container.remove");
      expect(remove.links).toEqual([{ traceId, spanId: execute.spanId }]);
      // The phases follow each other.
      const [acquire, run, collect] = ["container.acquire", "program.run", "result.collect"].map((n) => one(spans, n));
      expect(acquire?.endMs).toBeLessThanOrEqual(run?.startMs ?? 0);
      expect(run?.endMs).toBeLessThanOrEqual(collect?.startMs ?? 0);
      // Times are wall-clock times.
      for (const span of spans) {
        expect(span.startMs).toBeGreaterThanOrEqual(before - 1_000);
        expect(span.endMs).toBeGreaterThanOrEqual(span.startMs);
        expect(span.endMs).toBeLessThanOrEqual(Date.now() + 1_000);
      }
      // Nothing of the program's own in any span by default.
      expect(JSON.stringify(spans)).not.toContain("traced')");
    });

    it("starts a new trace for a caller that sent none, or an invalid one", async () => {
      const invalid = "00-00000000000000000000000000000000-0000000000000000-01";
      for (const headers of [{}, { traceparent: invalid }] as Record<string, string>[]) {
        const { traceparent, body } = await post(stack, headers);
        const traceId = traceparent.slice(3, 35);
        expect(traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(traceId).not.toBe("0".repeat(32));
        expect(body.traceId).toBe(traceId);
        const spans = await receiver.waitForTrace(traceId, executionComplete);
        expect(one(spans, "POST /v1/executions").parentSpanId).toBe("");
      }
    });
  });
}

describe("sampling", () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    stack = await tracedStack("e2e-trace-sampled", receiver, {
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0",
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it("at a ratio of 0 sends no span of an execution, while a caller's sampled trace is still honoured", async () => {
    const unsampled: string[] = [];
    for (let i = 0; i < 5; i++) unsampled.push((await post(stack, {})).body.traceId ?? "");
    // Spans leave in the order they end; once the sampled trace's last span is in,
    // any of the earlier executions' would be too.
    const traceId = hex(16);
    await post(stack, { traceparent: `00-${traceId}-${hex(8)}-01` });
    await receiver.waitForTrace(traceId, executionComplete);
    expect(new Set(receiver.spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
    expect(unsampled).not.toContain(traceId);
  });
});

describe("a traced run", () => {
  const scripts = new Map<string, CoderScript>();
  let receiver: OtlpReceiver;
  let models: FakeModels;
  let stack: Stack;
  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    models = await FakeModels.start("tracing");
    stack = await tracedStack("e2e-trace-run", receiver, models.vars);
  });
  // The fake coder answers each run's `[case:<name>]` with its script; nothing a test queued outlives it.
  beforeEach(() => models.anthropic.setDefault(byCase(scripts)));
  afterEach(() => models?.reset());
  afterAll(async () => {
    await stack?.stop();
    await models?.close();
    await receiver?.close();
  });

  const CODER_USAGE = { input: 11, output: 7, cacheRead: 100, cacheWrite: 20 };
  const PLANNER_USAGE = { input: 40, output: 12, cacheRead: 8 };
  const runComplete = (spans: ReceivedSpan[]) => spans.some((s) => s.name === "invoke_workflow default");

  it("is one trace: the workflow, its step, each model call with its usage, each tool call over its execution", async () => {
    scripts.set("one", (turn) =>
      turn === 0
        ? reply.toolUse("run_code", { language: "python", code: "print(6 * 7)" }, { usage: CODER_USAGE })
        : reply.toolUse(
            "finish",
            { summary: "prints 42", code: "print(6 * 7)", verdict: "success" },
            { usage: CODER_USAGE },
          ),
    );
    models.openai.enqueue(
      Object.assign(
        reply.structured({ steps: [{ goal: "print 42", successCriterion: "it prints 42" }] }, PLANNER_USAGE),
        {
          model: "o3-mini-2025-01-31",
        },
      ),
    );
    const traceId = hex(16);
    const res = await fetch(`${stack.worker.url}/v1/runs`, {
      method: "POST",
      headers: stack.api.headers({ traceparent: `00-${traceId}-${hex(8)}-01` }),
      body: JSON.stringify({ task: "[case:one] Print 6 times 7." }),
    });
    expect(res.status).toBe(201);
    const { id, traceId: answered } = (await res.json()) as { id: string; traceId: string };
    expect(answered).toBe(traceId);
    const { view, events } = await runToEnd(stack.api, id);
    expect(view).toMatchObject({ status: "succeeded", traceId });
    const created = events[0];
    expect(created?.type === "run.created" && created.payload.trace?.traceId).toBe(traceId);

    const spans = await receiver.waitForTrace(traceId, (s) => runComplete(s) && has(s, EXECUTION_SPANS));
    const server = one(spans, "POST /v1/runs");
    const root = one(spans, "invoke_workflow default");
    expect(root).toMatchObject({ service: "edgeswarm-worker", parentSpanId: server.spanId });
    expect(root.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_workflow",
      "edgeswarm.run.id": id,
      "edgeswarm.run.status": "succeeded",
      "gen_ai.usage.input_tokens": 48 + 2 * 131,
      "gen_ai.usage.output_tokens": 12 + 2 * 7,
    });
    expect(root.status.code).not.toBe(2);
    const step = one(spans, "invoke_agent coder");
    expect(step).toMatchObject({ parentSpanId: root.spanId });
    expect(step.attributes).toMatchObject({ "gen_ai.agent.name": "coder", "edgeswarm.step": 0 });

    const chats = spans.filter((s) => s.name.startsWith("chat "));
    const planner = chats.filter((s) => s.name === "chat o3-mini");
    expect(planner).toHaveLength(1);
    expect(planner[0]).toMatchObject({ kind: 3, parentSpanId: root.spanId });
    expect(planner[0]?.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "o3-mini",
      "gen_ai.response.model": "o3-mini-2025-01-31",
      "gen_ai.usage.input_tokens": 48,
      "gen_ai.usage.output_tokens": 12,
      "gen_ai.usage.cache_read.input_tokens": 8,
      "gen_ai.response.finish_reasons": ["stop"],
    });
    const coder = chats.filter((s) => s.name === "chat claude-sonnet-4-6");
    expect(coder).toHaveLength(2);
    for (const chat of coder) {
      expect(chat).toMatchObject({ kind: 3, parentSpanId: step.spanId });
      expect(chat.attributes).toMatchObject({
        "gen_ai.provider.name": "anthropic",
        "gen_ai.response.model": "claude-sonnet-4-6",
        "gen_ai.usage.input_tokens": 131,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 100,
        "gen_ai.usage.cache_creation.input_tokens": 20,
        "gen_ai.response.finish_reasons": ["tool_use"],
      });
    }

    const tool = one(spans, "execute_tool run_code");
    expect(tool).toMatchObject({ parentSpanId: step.spanId });
    const executionId = events.find((e) => e.type === "execution.finished")?.payload;
    expect(tool.attributes).toMatchObject({
      "gen_ai.tool.name": "run_code",
      "gen_ai.tool.call.id": "call_1",
      "edgeswarm.execution.status": "succeeded",
      "edgeswarm.execution.id": executionId && "executionId" in executionId ? executionId.executionId : "",
    });
    const lease = one(spans, "pool.lease");
    expect(lease.parentSpanId).toBe(tool.spanId);
    expect(one(spans, "execute").parentSpanId).toBe(lease.spanId);
    // Every span of the run is in the one trace, and none twice.
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
    // No prompt, reply or output by default.
    expect(JSON.stringify(spans)).not.toContain("6 * 7");
    expect(JSON.stringify(spans)).not.toContain("print 42");
  });

  it("gives a continued run's next task turn a workflow span of its own, under the root, in the same trace", async () => {
    // Each step: run the code, then finish (the conversation may or may not restart per step).
    scripts.set("again", (turn) =>
      turn % 2 === 0
        ? reply.toolUse("run_code", { language: "python", code: "print('again')" })
        : reply.toolUse("finish", { summary: "printed again", code: "print('again')", verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "[case:again] Print again.", planner: null });
    const first = await runToEnd(stack.api, id);
    expect(first.view.status).toBe("succeeded");
    const { traceId } = first.view;
    if (!traceId) throw new Error("the run has no trace id");
    const ended = first.events.at(-1)?.seq ?? 0;
    const sent = await stack.api.raw(`/v1/runs/${id}/messages`, JSON.stringify({ text: "[case:again] Once more." }));
    expect(sent.status, await sent.clone().text()).toBe(200);
    const later: RunEvent[] = [];
    for await (const e of followRun(stack.api, id, { lastEventId: ended })) later.push(e);
    expect(later.at(-1)).toMatchObject({ type: "run.finished", payload: { status: "succeeded" } });
    const continued = later.find((e) => e.type === "run.continued");
    const turnSpanId = continued?.type === "run.continued" ? continued.payload.spanId : undefined;
    expect(turnSpanId).toMatch(/^[0-9a-f]{16}$/);

    const workflows = (s: ReceivedSpan[]) => s.filter((x) => x.name === "invoke_workflow default");
    const spans = await receiver.waitForTrace(traceId, (s) => workflows(s).length === 2);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
    const [root, turn] = workflows(spans).sort((a, b) => a.startMs - b.startMs) as [ReceivedSpan, ReceivedSpan];
    expect(root.attributes).toMatchObject({ "edgeswarm.run.turn": 1, "edgeswarm.run.status": "succeeded" });
    expect(turn).toMatchObject({ spanId: turnSpanId, parentSpanId: root.spanId });
    expect(turn.attributes).toMatchObject({ "edgeswarm.run.id": id, "edgeswarm.run.turn": 2 });
    // Each turn's step hangs under its own turn, and the turn spans its step.
    const steps = spans.filter((s) => s.name === "invoke_agent coder").sort((a, b) => a.startMs - b.startMs);
    expect(steps.map((s) => s.parentSpanId)).toEqual([root.spanId, turn.spanId]);
    const second = steps[1] as ReceivedSpan;
    expect(turn.startMs).toBeLessThanOrEqual(second.startMs);
    expect(turn.endMs).toBeGreaterThanOrEqual(second.endMs);
    expect(root.endMs).toBeLessThanOrEqual(turn.startMs);
  });

  it("keeps its trace across a SIGKILL of the Worker, with no span sent twice", async () => {
    const secondCall = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    scripts.set("kill", async (turn) => {
      if (turn === 0) return reply.toolUse("run_code", { language: "python", code: "print('one')" });
      if (turn === 1) {
        secondCall.resolve();
        await release.promise;
        return reply.toolUse("run_code", { language: "python", code: "print('two')" });
      }
      return reply.toolUse("finish", { summary: "printed one and two", code: "print('two')", verdict: "success" });
    });
    const id = await createRun(stack.api, { task: "[case:kill] Print one, then two.", planner: null });
    const { traceId } = await getRun(stack.api, id);
    if (!traceId) throw new Error("the run has no trace id");
    await within(secondCall.promise, 30_000, "the coder's 2nd call");
    // What ended before the kill has been sent: the first model call and the first execution.
    await receiver.waitForTrace(traceId, (s) => s.some((x) => x.name === "execute_tool run_code"));

    await stack.killAndRestartWorker();
    release.resolve();
    const { view } = await runToEnd(stack.api, id, 90_000);
    expect(view).toMatchObject({ status: "succeeded", traceId });

    const spans = await receiver.waitForTrace(traceId, runComplete);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
    const root = one(spans, "invoke_workflow default");
    const step = one(spans, "invoke_agent coder");
    expect(step.parentSpanId).toBe(root.spanId);
    // The call in flight at the kill never ended, so only its repeat is a span.
    const chats = spans.filter((s) => s.name.startsWith("chat "));
    expect(chats).toHaveLength(3);
    const tools = spans.filter((s) => s.name === "execute_tool run_code");
    expect(tools).toHaveLength(2);
    for (const span of [...chats, ...tools]) expect(span.parentSpanId).toBe(step.spanId);
    // The root spans the whole run, from before the kill to after it.
    expect(root.startMs).toBeLessThanOrEqual(
      Math.min(...spans.filter((s) => s !== root && s.name !== "POST /v1/runs").map((s) => s.startMs)),
    );
  }, 180_000);
});

describe("a collector that fails", () => {
  const MiB = 1024 * 1024;
  const COUNT = 1_000;
  let receiver: OtlpReceiver;
  let models: FakeModels;
  let stack: Stack | undefined;
  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    receiver.answer = 500;
    models = await FakeModels.start("tracing-down");
  });
  afterAll(async () => {
    await stack?.stop();
    await models?.close();
    await receiver?.close();
  });

  /** A Worker and two agents of capacity 4; `otel` for all three. */
  async function start(prefix: string, otel: Record<string, string>): Promise<Stack> {
    const started = await startStack(prefix, 0, 4, { ...models.vars, ...otel });
    for (const n of [1, 2]) await started.startAgent({ id: `${prefix}-${n}`, env: otel, capacity: 4 });
    return started;
  }

  /** Runs `n` executions, 8 at a time; every one must succeed. */
  async function executions(on: Stack, n: number): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < n) {
          next++;
          const result = await on.api.execute(PROGRAM);
          expect(result.status).toBe("succeeded");
        }
      }),
    );
  }

  /** How much the Worker's workerd and the agents grew over COUNT executions, after 100 to warm up. */
  async function growth(on: Stack): Promise<{ worker: number; agents: number }> {
    const rss = async () => ({
      worker: await groupRss(on.worker.proc?.child.pid ?? 0, "workerd"),
      agents: (await Promise.all(on.agents.map((a) => groupRss(a.proc.child.pid ?? 0, "node")))).reduce(
        (a, b) => a + b,
      ),
    });
    await executions(on, 100);
    const before = await rss();
    expect(before.worker).toBeGreaterThan(0);
    await executions(on, COUNT);
    const after = await rss();
    return { worker: after.worker - before.worker, agents: after.agents - before.agents };
  }

  it("costs no execution anything: 1 000 succeed, spans are dropped and counted, and memory grows no more than without tracing", async () => {
    // The same load with tracing off first: workerd under wrangler dev grows with requests by itself.
    const baselineStack = await start("e2e-trace-base", {});
    const baseline = await growth(baselineStack).finally(() => baselineStack.stop());

    stack = await start("e2e-trace-down", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
    const down = await growth(stack);
    // The Worker said it drops spans (at most once a minute): the collector refused them all.
    await waitForLine(
      stack.worker.proc?.log as LineLog,
      /tracing: \d+ span\(s\) dropped so far/,
      20_000,
      "a drop report",
    );
    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(receiver.spans).toEqual([]);
    const mib = (n: number) => `${Math.round(n / MiB)} MiB`;
    console.info(
      `over ${COUNT} executions: workerd grew ${mib(baseline.worker)} without tracing, ${mib(down.worker)} with the collector down; ` +
        `the agents ${mib(baseline.agents)} and ${mib(down.agents)}`,
    );
    // workerd's own growth varies by ±20 MiB from run to run; the outbox's bound (2 048 spans a
    // isolate) is checked exactly in worker/src/telemetry/outbox.test.ts.
    expect(down.worker - baseline.worker).toBeLessThan(64 * MiB);
    expect(down.agents - baseline.agents).toBeLessThan(64 * MiB);
  }, 900_000);

  it("costs a run nothing either, nor does a collector that does not answer at all", async () => {
    if (!stack) throw new Error("the stack did not start");
    await receiver.close(); // connections refused from now on
    models.anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "print('still')" }),
      reply.toolUse("finish", { summary: "printed", code: "print('still')", verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Print still.", planner: null });
    const { view } = await runToEnd(stack.api, id);
    expect(view).toMatchObject({ status: "succeeded", result: { stdout: "still\n" } });
    expect((await post(stack, {})).body.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
