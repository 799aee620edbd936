import type { RunEvent, RunEventOf } from "@edgeswarm/shared";
import { type RecordedRequest, reply } from "../test/fakes/server.ts";
import { Api } from "../test/harness/api.ts";
import { createRun, followRun, getRun } from "../test/harness/runs.ts";
import { startCoderStack, turnOf } from "./coder-stack.ts";
import { type Summary, summarize } from "./stats.ts";

// The runs API under an instant fake coder: what the loop itself costs per
// iteration, and how long a burst of concurrent runs takes. See docs/benchmark.md.

/** Iterations (run_code calls) of the run whose loop is timed; the coder then calls finish. */
export const OVERHEAD_ITERATIONS = 20;
/** Runs started at once for the throughput figure. */
export const CONCURRENT_RUNS = 100;
/** The agent's slots for the runs phase: enough that a burst queues briefly rather than starves. */
export const RUNS_CAPACITY = 16;
/** The code every run_code call runs (trivial: the sandbox and the loop are what is timed). */
const CODE = "print(1)";
const OVERHEAD_TIMEOUT_MS = 120_000;
const CONCURRENT_TIMEOUT_MS = 240_000;

/** One loop iteration of the timed run, from the events' `at` stamps (ms). */
export interface IterationSample {
  /** From the previous iteration's end (step.started for the first) to the coder's reply. */
  coderMs: number;
  /** From the coder's reply to execution.finished, minus the execution's own durationMs. */
  dispatchMs: number;
  /** The execution's own durationMs (the program's run time, as the sandbox measured it). */
  executionMs: number;
  /** coderMs + dispatchMs: the iteration's time minus the execution's own time. */
  overheadMs: number;
}

export interface RunsResult {
  overhead: {
    iterations: number;
    overheadMs: Summary;
    coderMs: Summary;
    dispatchMs: Summary;
    executionMs: Summary;
    samples: IterationSample[];
  };
  concurrent: {
    runs: number;
    capacity: number;
    /** From the first POST /v1/runs until the last run.finished arrived on its event stream. */
    wallMs: number;
    runsPerSecond: number;
    /** Each run's own time, run.created to run.finished (the events' `at`). */
    runMs: Summary;
    /** execution.retry events (reason no_sandbox) over all runs: a sandbox asked for while every slot was busy. */
    sandboxRetries: number;
  };
}

/** The number of run_code calls a run's task asks the fake coder for: `[iterations:N]`. */
function iterationsAsked(request: RecordedRequest): number {
  const first = (request.body as { messages?: { content: unknown }[] } | undefined)?.messages?.[0]?.content;
  const text = typeof first === "string" ? first : JSON.stringify(first ?? "");
  return Number(/\[iterations:(\d+)\]/.exec(text)?.[1] ?? 0);
}

/** Rejects with `signal`'s reason when it aborts, or with `what` after `timeoutMs`. */
async function bounded<T>(promise: Promise<T>, signal: AbortSignal, timeoutMs: number, what: string): Promise<T> {
  const limit = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  let off = () => {};
  const stop = new Promise<never>((_, reject) => {
    const onAbort = () =>
      reject(signal.aborted ? signal.reason : new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    limit.addEventListener("abort", onAbort, { once: true });
    off = () => limit.removeEventListener("abort", onAbort);
  });
  try {
    return await Promise.race([promise, stop]);
  } finally {
    off();
  }
}

/**
 * Follows a run to its end; resolves with its events and the moment
 * (performance.now()) run.finished arrived. Throws unless it succeeded with
 * `iterations` successful executions.
 */
async function finishRun(api: Api, id: string, iterations: number): Promise<{ events: RunEvent[]; endedAt: number }> {
  const events: RunEvent[] = [];
  for await (const e of followRun(api, id)) events.push(e);
  const endedAt = performance.now();
  const end = events.at(-1);
  const executions = events.filter((e) => e.type === "execution.finished");
  if (end?.type !== "run.finished" || end.payload.status !== "succeeded") {
    const view = await getRun(api, id);
    throw new Error(`run ${id} ended ${view.status}: ${JSON.stringify(view.error)}`);
  }
  if (executions.length !== iterations || executions.some((e) => e.payload.status !== "succeeded")) {
    throw new Error(`run ${id}: expected ${iterations} successful executions, got ${JSON.stringify(executions)}`);
  }
  return { events, endedAt };
}

/** Splits a run's log into its loop iterations (see bench/README.md, "Runs"). */
export function iterationSamples(events: readonly RunEvent[]): IterationSample[] {
  const ms = (e: RunEvent) => Date.parse(e.at);
  const samples: IterationSample[] = [];
  let boundary: RunEvent | undefined = events.find((e) => e.type === "step.started");
  let reply: RunEvent | undefined;
  for (const e of events) {
    if (e.type === "coder.replied") reply = e;
    if (e.type !== "execution.finished") continue;
    if (!boundary || !reply) throw new Error(`execution.finished at seq ${e.seq} without a step and a reply before it`);
    const exec = e as RunEventOf<"execution.finished">;
    const coderMs = ms(reply) - ms(boundary);
    const dispatchMs = ms(exec) - ms(reply) - exec.payload.durationMs;
    samples.push({ coderMs, dispatchMs, executionMs: exec.payload.durationMs, overheadMs: coderMs + dispatchMs });
    boundary = e;
  }
  return samples;
}

/**
 * Starts its own Worker and agent (capacity {@link RUNS_CAPACITY}) against a
 * fake Anthropic server that answers at once, and measures: one warm-up run,
 * one run of {@link OVERHEAD_ITERATIONS} iterations, then
 * {@link CONCURRENT_RUNS} runs started at once. Stops all it started.
 */
export async function measureRuns(signal: AbortSignal, say: (line: string) => void): Promise<RunsResult> {
  const coder = await startCoderStack(signal, RUNS_CAPACITY, (request) => {
    if (turnOf(request) < iterationsAsked(request))
      return reply.toolUse("run_code", { language: "python", code: CODE });
    return reply.toolUse("finish", { summary: "printed 1", code: CODE, verdict: "success" });
  });
  const { stack, anthropic } = coder;
  try {
    const api = new Api(stack.url, stack.apiKey);
    const start = (iterations: number, label: string) =>
      createRun(api, {
        task: `[iterations:${iterations}] Print 1 (${label}).`,
        planner: null,
        maxIterations: iterations,
      });

    say(`runs: a warm-up run, then one run of ${OVERHEAD_ITERATIONS} iterations`);
    const warm = await start(3, "warm-up");
    await bounded(finishRun(api, warm, 3), signal, OVERHEAD_TIMEOUT_MS, "the warm-up run");
    const timed = await start(OVERHEAD_ITERATIONS, "loop overhead");
    const { events } = await bounded(
      finishRun(api, timed, OVERHEAD_ITERATIONS),
      signal,
      OVERHEAD_TIMEOUT_MS,
      `the run of ${OVERHEAD_ITERATIONS} iterations`,
    );
    const samples = iterationSamples(events);

    say(`runs: ${CONCURRENT_RUNS} runs at once, 1 iteration each`);
    const began = performance.now();
    const ids = await bounded(
      Promise.all(Array.from({ length: CONCURRENT_RUNS }, (_, i) => start(1, `burst ${i + 1}`))),
      signal,
      CONCURRENT_TIMEOUT_MS,
      `${CONCURRENT_RUNS} POST /v1/runs answers`,
    );
    const ended = await bounded(
      Promise.all(ids.map((id) => finishRun(api, id, 1))),
      signal,
      CONCURRENT_TIMEOUT_MS,
      `${CONCURRENT_RUNS} concurrent runs to end`,
    );
    const wallMs = Math.max(...ended.map((r) => r.endedAt)) - began;
    const runMs = ended.map(({ events: log }) => Date.parse(log.at(-1)?.at ?? "") - Date.parse(log[0]?.at ?? ""));
    if (anthropic.violations.length > 0) {
      throw new Error(`the fake Anthropic server saw protocol violations: ${JSON.stringify(anthropic.violations)}`);
    }
    return {
      overhead: {
        iterations: samples.length,
        overheadMs: summarize(samples.map((s) => s.overheadMs)),
        coderMs: summarize(samples.map((s) => s.coderMs)),
        dispatchMs: summarize(samples.map((s) => s.dispatchMs)),
        executionMs: summarize(samples.map((s) => s.executionMs)),
        samples,
      },
      concurrent: {
        runs: CONCURRENT_RUNS,
        capacity: RUNS_CAPACITY,
        wallMs,
        runsPerSecond: CONCURRENT_RUNS / (wallMs / 1000),
        runMs: summarize(runMs),
        sandboxRetries: ended.reduce(
          (n, r) =>
            n + r.events.filter((e) => e.type === "execution.retry" && e.payload.reason === "no_sandbox").length,
          0,
        ),
      },
    };
  } finally {
    await coder.stop();
  }
}
