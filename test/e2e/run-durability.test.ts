import type { RunEvent } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../scripts/lib/wait.ts";
import { FakeAnthropic } from "../fakes/anthropic.ts";
import { type RecordedRequest, reply } from "../fakes/server.ts";
import type { Api } from "../harness/api.ts";
import { agentExecutionContainer, agentSandboxesGone } from "../harness/docker.ts";
import {
  anthropicToolResults,
  byCase,
  type CoderScript,
  caseOf,
  createRun,
  followRun,
  getRun,
  runToEnd,
  turnOf,
} from "../harness/runs.ts";
import { type Stack, startStack } from "../harness/stack.ts";

// Runs that outlive their Worker: a SIGKILL of workerd in the middle of a model
// call, a dropped event stream, and a burst of 100 runs. The real Worker and
// agents, real Docker, and a fake Anthropic server that the real SDK talks to.
const ANTHROPIC_KEY = "sk-ant-test-key-durability";
let stack: Stack;
let anthropic: FakeAnthropic;

/** Each test's runs carry `[case:<name>]` in their task; the fake coder answers each with its script. */
const scripts = new Map<string, CoderScript>();

/** The coder requests the fake received for one case. */
function requestsOf(name: string): RecordedRequest[] {
  return anthropic.requests.filter((r) => caseOf(r) === name);
}

/** Every event of a run through the JSON pages (`?after=&limit=`), page by page. */
async function pagedEvents(api: Api, id: string, limit = 4): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  let after = 0;
  for (let page = 0; page < 1000; page++) {
    const res = await api.get(`/v1/runs/${id}/events?after=${after}&limit=${limit}`);
    if (!res.ok) throw new Error(`GET events?after=${after} answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { events: RunEvent[]; next: number; done: boolean };
    events.push(...body.events);
    if (body.done || body.events.length === 0) return events;
    after = body.next;
  }
  throw new Error(`run ${id}: more than 1000 pages of events`);
}

/** Seqs 1..N with none missing or repeated; exactly one run.created first and one run.finished last. */
function expectWellFormedLog(events: RunEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events[0]?.type).toBe("run.created");
  expect(events.at(-1)?.type).toBe("run.finished");
  for (const once of ["run.created", "plan.created", "run.finished"]) {
    expect(
      events.filter((e) => e.type === once),
      `${once} events`,
    ).toHaveLength(1);
  }
  // One execution.finished per tool call, one coder.replied per tool call id, one start/finish per step.
  const executed = events.flatMap((e) => (e.type === "execution.finished" ? [e.payload.toolCallId] : []));
  expect(new Set(executed).size, `execution.finished tool call ids ${executed}`).toBe(executed.length);
  const called = events.flatMap((e) => (e.type === "coder.replied" ? e.payload.toolCalls.map((c) => c.id) : []));
  expect(new Set(called).size, `coder.replied tool call ids ${called}`).toBe(called.length);
  for (const type of ["step.started", "step.finished"] as const) {
    const steps = events.flatMap((e) => (e.type === type ? [e.payload.step] : []));
    expect(new Set(steps).size, `${type} steps ${steps}`).toBe(steps.length);
  }
  // Each coder turn is answered (executed, rejected or finished) before the next one.
  let open = 0;
  for (const e of events) {
    if (e.type === "coder.replied") {
      expect(open, `coder.replied at seq ${e.seq} while the previous turn was unanswered`).toBe(0);
      open = e.payload.toolCalls.length;
    } else if (e.type === "execution.finished" || e.type === "tool.rejected" || e.type === "step.finished") {
      open = Math.max(0, open - 1);
    }
  }
}

beforeAll(async () => {
  anthropic = await FakeAnthropic.start({
    apiKey: ANTHROPIC_KEY,
    default: byCase(scripts),
  });
  // 2 agents x 8 slots: enough for the burst of 100 runs to queue briefly, not to starve.
  stack = await startStack("e2e-durable", 2, 8, {
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: anthropic.url,
  });
});
// Replies a test queued and did not use never answer the next test's requests.
afterEach(() => {
  anthropic?.reset();
});
afterAll(async () => {
  await stack?.stop();
  await anthropic?.close();
});

describe("run durability", () => {
  it("survives a SIGKILL of the Worker during a model call: resumes, no duplicate events, one repeated call", async () => {
    const secondCall = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    scripts.set("kill", async (turn) => {
      if (turn === 0) return reply.toolUse("run_code", { language: "python", code: "print('one')" });
      if (turn === 1) {
        secondCall.resolve();
        await release.promise; // in flight until the test lets it go
        return reply.toolUse("run_code", { language: "python", code: "print('two')" });
      }
      return reply.toolUse("finish", { summary: "printed one and two", code: "print('two')", verdict: "success" });
    });
    const id = await createRun(stack.api, { task: "[case:kill] Print one, then two.", planner: null });
    await within(secondCall.promise, 30_000, "the coder's 2nd call to reach the fake");

    await stack.killAndRestartWorker();
    const restartedAt = performance.now();
    release.resolve();

    // The run resumes by itself: the stream's read of the run kicks it (a run with work and no
    // drive running), and its watchdog alarm would do so 30 s after the killed drive began anyway.
    const { view, events: streamed } = await runToEnd(stack.api, id, 90_000);
    const resumedAfterMs = performance.now() - restartedAt;
    expect(view.error).toBeNull();
    expect(view.status).toBe("succeeded");
    expect(view.iterations).toBe(2);
    expect(view.result).toMatchObject({ stdout: "two\n", summary: "printed one and two" });

    const events = await pagedEvents(stack.api, id);
    expectWellFormedLog(events);
    expect(events.map((e) => e.type)).toEqual([
      "run.created",
      "plan.created",
      "step.started",
      "coder.replied",
      "execution.started",
      "execution.output",
      "execution.finished",
      "coder.replied",
      "execution.started",
      "execution.output",
      "execution.finished",
      "coder.replied",
      "step.finished",
      "run.finished",
    ]);
    const outputs = events.flatMap((e) => (e.type === "execution.finished" ? [e.payload.stdout] : []));
    expect(outputs).toEqual(["one\n", "two\n"]);
    // What the stream served after the restart is the same log.
    expect(streamed).toEqual(events);

    // Only the call in flight at the kill was made again.
    const turns = events.filter((e) => e.type === "coder.replied").length;
    const calls = requestsOf("kill");
    expect(calls.map(turnOf)).toEqual([0, 1, 1, 2]);
    expect(calls.length).toBeLessThanOrEqual(turns + 1);
    expect(anthropic.violations).toEqual([]);
    console.info(`run-durability: the run ended ${Math.round(resumedAfterMs)} ms after the Worker was back`);
  }, 180_000);

  it("survives a SIGKILL of the Worker during an execution: the call runs again, once, and no sandbox is left", async () => {
    scripts.set("kill-exec", (turn, request) => {
      if (turn === 0) {
        return reply.toolUse("run_code", { language: "python", code: "import time\ntime.sleep(4)\nprint('slept')" });
      }
      const results = anthropicToolResults(request.body);
      if (!results.some((r) => r.includes("stdout:\nslept"))) {
        return reply.error(400, `the execution's stdout did not reach the coder: ${JSON.stringify(results)}`);
      }
      return reply.toolUse("finish", { summary: "slept, then printed", code: "print('slept')", verdict: "success" });
    });
    // Watch for the sandbox on either agent before the run can start one.
    const sandbox = Promise.any(stack.agents.map((a) => agentExecutionContainer(a.options.id, 30_000)));
    const id = await createRun(stack.api, { task: "[case:kill-exec] Sleep, then print.", planner: null });
    await within(sandbox, 30_000, "the run's sandbox to start");
    // The container exists before the Worker hears that it started: wait for the log to say so too.
    await within(
      (async () => {
        for await (const e of followRun(stack.api, id)) if (e.type === "execution.started") return;
      })(),
      30_000,
      "execution.started in the run's log",
    );

    await stack.killAndRestartWorker();

    const { view } = await runToEnd(stack.api, id, 90_000);
    expect(view.error).toBeNull();
    expect(view.status).toBe("succeeded");
    expect(view.iterations).toBe(1);
    expect(view.result).toMatchObject({ stdout: "slept\n", summary: "slept, then printed" });
    const events = await pagedEvents(stack.api, id);
    expectWellFormedLog(events);
    expect(events.map((e) => e.type)).toEqual([
      "run.created",
      "plan.created",
      "step.started",
      "coder.replied",
      // The sandbox cut off by the kill had started; its call ran again, once.
      "execution.started",
      "execution.started",
      "execution.output",
      "execution.finished",
      "coder.replied",
      "step.finished",
      "run.finished",
    ]);
    // No model call was in flight at the kill, so none was repeated.
    expect(requestsOf("kill-exec").map(turnOf)).toEqual([0, 1]);
    expect(anthropic.violations).toEqual([]);
    // The agents cancelled the sandbox cut off by the kill: none is left running.
    await Promise.all(stack.agents.map((a) => agentSandboxesGone(a.options.id, 15_000)));
  }, 180_000);

  it("survives a SIGKILL of the Worker mid-team: the team goes on, no turn twice, seqs contiguous", async () => {
    const reviewing = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    const isTurnOf = (request: RecordedRequest, name: string) =>
      JSON.stringify(request.body).includes(`You are ${name}. It is your turn.`);
    scripts.set("team-kill", async (turn, request) => {
      const again = JSON.stringify(request.body).includes("Print two as well.");
      if (isTurnOf(request, "reviewer")) {
        if (again) return reply.text("APPROVE");
        reviewing.resolve();
        await release.promise; // in flight until the test lets it go
        return reply.text("Print two as well.");
      }
      if (turn === 0)
        return reply.toolUse("run_code", { language: "python", code: again ? "print('two')" : "print('one')" });
      return reply.text(again ? "Printed two." : "Printed one.");
    });
    const id = await createRun(stack.api, {
      task: "[case:team-kill] Print one.",
      team: {
        kind: "round_robin",
        participants: [
          { name: "coder", role: "coder" },
          { name: "reviewer", role: "assistant" },
        ],
        termination: { textMention: "APPROVE", sources: ["reviewer"] },
      },
    });
    await within(reviewing.promise, 30_000, "the reviewer's call to reach the fake");

    await stack.killAndRestartWorker();
    release.resolve();

    const { view } = await runToEnd(stack.api, id, 90_000);
    expect(view.error).toBeNull();
    expect(view.status).toBe("succeeded");
    expect(view.result?.stoppedBy).toEqual([{ textMention: "APPROVE", sources: ["reviewer"] }]);
    const events = await pagedEvents(stack.api, id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "run.finished")).toHaveLength(1);
    const messages = events.flatMap((e) =>
      e.type === "team.message" ? [`${e.payload.speaker}: ${e.payload.text}`] : [],
    );
    expect(messages).toEqual([
      "coder: Printed one.",
      "reviewer: Print two as well.",
      "coder: Printed two.",
      "reviewer: APPROVE",
    ]);
    const outputs = events.flatMap((e) => (e.type === "execution.finished" ? [e.payload.stdout] : []));
    expect(outputs).toEqual(["one\n", "two\n"]);
    // Only the reviewer's call in flight at the kill was made again.
    const reviewerCalls = requestsOf("team-kill").filter((r) => isTurnOf(r, "reviewer"));
    expect(reviewerCalls).toHaveLength(3);
    expect(anthropic.violations).toEqual([]);
  }, 180_000);

  it("resumes an event stream from Last-Event-ID: every event exactly once, in order", async () => {
    const first = { reached: Promise.withResolvers<void>(), go: Promise.withResolvers<void>() };
    const second = { reached: Promise.withResolvers<void>(), go: Promise.withResolvers<void>() };
    scripts.set("sse", async (turn) => {
      if (turn === 0) {
        first.reached.resolve();
        await first.go.promise;
        return reply.toolUse("run_code", { language: "python", code: "print('a')" });
      }
      second.reached.resolve();
      await second.go.promise;
      return reply.toolUse("finish", { summary: "printed a", code: "print('a')", verdict: "success" });
    });
    const id = await createRun(stack.api, { task: "[case:sse] Print a.", planner: null });
    await within(first.reached.promise, 30_000, "the coder's 1st call to reach the fake");

    // While the coder is held, the log is run.created, plan.created, step.started: read them, then drop.
    const before: RunEvent[] = [];
    const drop = new AbortController();
    await within(
      (async () => {
        for await (const e of followRun(stack.api, id, { signal: drop.signal })) {
          before.push(e);
          if (before.length === 3) break;
        }
      })(),
      15_000,
      "the first 3 events on the stream",
    );
    drop.abort();
    expect(before.map((e) => e.type)).toEqual(["run.created", "plan.created", "step.started"]);

    // Events appended while nobody listens: coder.replied and execution.finished, then the 2nd call.
    first.go.resolve();
    await within(second.reached.promise, 30_000, "the coder's 2nd call (after the 1st execution)");

    const after: RunEvent[] = [];
    await within(
      (async () => {
        for await (const e of followRun(stack.api, id, { lastEventId: before.at(-1)?.seq })) {
          after.push(e);
          second.go.resolve(); // the rest comes live, on this same connection
        }
      })(),
      30_000,
      "the resumed stream to reach run.finished",
    );

    const union = [...before, ...after];
    expect(after[0]?.seq).toBe(4);
    expect(union.map((e) => e.seq)).toEqual(union.map((_, i) => i + 1));
    expect(union.at(-1)).toMatchObject({ type: "run.finished", payload: { status: "succeeded" } });
    expect(union).toEqual(await pagedEvents(stack.api, id));
    expect((await getRun(stack.api, id)).status).toBe("succeeded");
  });

  it("takes 100 runs started at once to their end, each with a well-formed log", async () => {
    const RUNS = 100;
    scripts.set("many", (turn, request) => {
      if (turn === 0) return reply.toolUse("run_code", { language: "python", code: "print(1)" });
      const results = anthropicToolResults(request.body);
      if (!results.some((r) => r.includes("stdout:\n1"))) {
        return reply.error(400, `the execution's stdout did not reach the coder: ${JSON.stringify(results)}`);
      }
      return reply.toolUse("finish", { summary: "printed 1", code: "print(1)", verdict: "success" });
    });
    const started = performance.now();
    const ids = await within(
      Promise.all(
        Array.from({ length: RUNS }, (_, i) =>
          createRun(stack.api, { task: `[case:many] Print 1 (run ${i + 1}).`, planner: null }),
        ),
      ),
      60_000,
      `${RUNS} POST /v1/runs answers`,
    );
    expect(new Set(ids).size).toBe(RUNS);

    const ended = await within(
      Promise.all(ids.map((id) => runToEnd(stack.api, id, 290_000))),
      300_000,
      `all ${RUNS} runs to reach a terminal state`,
    );
    const wallMs = performance.now() - started;
    const statuses = ended.map((r) => r.view.status);
    const failed = ended.filter((r) => r.view.status !== "succeeded").map((r) => [r.view.id, r.view.error]);
    expect(failed, `runs that did not succeed (of ${RUNS})`).toEqual([]);
    expect(statuses.every((s) => s === "succeeded")).toBe(true);

    for (const id of ids) {
      const events = await pagedEvents(stack.api, id, 100);
      expectWellFormedLog(events);
      expect(events.filter((e) => e.type === "execution.finished")).toHaveLength(1);
    }
    expect(requestsOf("many")).toHaveLength(2 * RUNS);
    expect(anthropic.violations).toEqual([]);
    console.info(`run-durability: ${RUNS} runs ended in ${Math.round(wallMs)} ms`);
  }, 360_000);
});
