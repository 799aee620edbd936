import { randomBytes } from "node:crypto";
import Anthropic from "@anthropic-ai/sdk";
import type { RunEvent, RunEventOf, RunRequestInput, TokenUsage } from "@edgeswarm/shared";
import { type RecordedRequest, reply } from "../test/fakes/server.ts";
import { Api } from "../test/harness/api.ts";
import { createRun, followRun, getRun } from "../test/harness/runs.ts";
import { startCoderStack, turnOf } from "./coder-stack.ts";
import { type Summary, summarize } from "./stats.ts";
import { formatTarget, type Target, target } from "./targets.ts";

// What a run costs: the coder's billed input with prompt caching and digests
// against the same run without them, and the loop's time per iteration against
// a bare execution plus a bare model call, all on one Worker and agent with a
// fake Anthropic server that answers at once. See docs/benchmark.md.

/** Iterations of the cost run: each program prints 40 KB. */
export const COST_ITERATIONS = 12;
const LOUD = "for i in range(1000):\n    print(f'{i:05d} ' + 'y' * 33)";
/** Iterations of the timed loop (trivial programs), and rounds of each bare call. */
export const LOOP_ITERATIONS = 20;
const BARE_ROUNDS = 20;
const TRIVIAL = "print(1)";
const RUN_TIMEOUT_MS = 180_000;
/** Anthropic's prices for cache reads and writes (5-minute cache), as multiples of base input. */
export const CACHE_PRICE = { read: 0.1, write: 1.25 } as const;

export interface CostSide {
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Input tokens weighted by price: uncached 1, reads 0.1, writes 1.25. */
  billedInput: number;
  /** The sizes (characters) of the coder's requests at iterations 3 and 12. */
  request3Chars: number;
  request12Chars: number;
}

export interface SwarmResult {
  cost: {
    iterations: number;
    uncached: CostSide;
    /** The defaults: caching, and digests after 3 turns. */
    cached: CostSide;
    /** Caching, and digests after 1 turn. */
    cachedShort: CostSide;
    saving: number;
    savingShort: number;
  };
  loop: {
    iterations: number;
    iterationMs: Summary;
    bareExecutionMs: Summary;
    bareModelMs: Summary;
    /** iteration p50 / (bare execution p50 + bare model p50). */
    ratio: number;
  };
  targets: Target[];
}

/** The `[loud:N]` or `[trivial:N]` tag of a run's task: what the fake coder runs, and how often. */
function script(request: RecordedRequest): { code: string; times: number } {
  const first = (request.body as { messages?: { content: unknown }[] })?.messages?.[0]?.content;
  const text = typeof first === "string" ? first : JSON.stringify(first ?? "");
  const m = /\[(loud|trivial):(\d+)\]/.exec(text);
  return { code: m?.[1] === "loud" ? LOUD : TRIVIAL, times: Number(m?.[2] ?? 0) };
}

function billed(u: TokenUsage): number {
  const read = u.cacheReadTokens ?? 0;
  const write = u.cacheWriteTokens ?? 0;
  return u.inputTokens - read - write + CACHE_PRICE.read * read + CACHE_PRICE.write * write;
}

async function toEnd(api: Api, id: string, signal: AbortSignal): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  const limit = AbortSignal.any([signal, AbortSignal.timeout(RUN_TIMEOUT_MS)]);
  for await (const e of followRun(api, id, { signal: limit })) events.push(e);
  const end = events.at(-1);
  if (end?.type !== "run.finished" || end.payload.status !== "succeeded") {
    throw new Error(`run ${id} did not succeed: ${JSON.stringify((await getRun(api, id)).error)}`);
  }
  return events;
}

/** From each iteration's start (step.started, or the last execution's end) to its execution.finished. */
export function iterationTimes(events: readonly RunEvent[]): number[] {
  const ms = (e: RunEvent) => Date.parse(e.at);
  const out: number[] = [];
  let from: RunEvent | undefined = events.find((e) => e.type === "step.started");
  for (const e of events) {
    if (e.type !== "execution.finished" || !from) continue;
    out.push(ms(e) - ms(from));
    from = e;
  }
  return out;
}

export async function measureSwarm(signal: AbortSignal, say: (line: string) => void): Promise<SwarmResult> {
  const coder = await startCoderStack(signal, 4, (request) => {
    const { code, times } = script(request);
    if (turnOf(request) < times) return reply.toolUse("run_code", { code });
    return reply.toolUse("finish", { summary: "done", code, verdict: "success" });
  });
  const { stack, anthropic, apiKey } = coder;
  anthropic.measureUsage = true;
  try {
    const api = new Api(stack.url, stack.apiKey);
    const run = async (body: RunRequestInput) => toEnd(api, await createRun(api, body), signal);

    const costSide = async (context: RunRequestInput["context"], label: string): Promise<CostSide> => {
      say(`swarm: a ${COST_ITERATIONS}-iteration run printing 40 KB each time, ${label}`);
      anthropic.cache.clear();
      const first = anthropic.requests.length;
      const tag = `[loud:${COST_ITERATIONS}] ${randomBytes(4).toString("hex")}`;
      const events = await run({ task: `${tag} Print a lot.`, planner: null, maxIterations: COST_ITERATIONS, context });
      const usage = events
        .filter((e): e is RunEventOf<"coder.replied"> => e.type === "coder.replied")
        .reduce<TokenUsage>(
          (sum, e) => ({
            inputTokens: sum.inputTokens + e.payload.usage.inputTokens,
            outputTokens: sum.outputTokens + e.payload.usage.outputTokens,
            cacheReadTokens: (sum.cacheReadTokens ?? 0) + (e.payload.usage.cacheReadTokens ?? 0),
            cacheWriteTokens: (sum.cacheWriteTokens ?? 0) + (e.payload.usage.cacheWriteTokens ?? 0),
          }),
          { inputTokens: 0, outputTokens: 0 },
        );
      const size = (i: number) => JSON.stringify(anthropic.requests[first + i]?.body ?? "").length;
      return {
        inputTokens: usage.inputTokens,
        cacheReadTokens: usage.cacheReadTokens ?? 0,
        cacheWriteTokens: usage.cacheWriteTokens ?? 0,
        billedInput: billed(usage),
        request3Chars: size(2),
        request12Chars: size(COST_ITERATIONS - 1),
      };
    };
    const uncached = await costSide({ promptCache: false, fullTurns: null }, "without caching or digests");
    const cached = await costSide({}, "with caching and digests (the defaults)");
    const cachedShort = await costSide({ fullTurns: 1 }, "with caching, and digests after one turn");

    say(`swarm: a warm-up run, then a run of ${LOOP_ITERATIONS} trivial iterations`);
    await run({ task: "[trivial:3] warm-up", planner: null, maxIterations: 3 });
    const loopEvents = await run({
      task: `[trivial:${LOOP_ITERATIONS}] Print 1.`,
      planner: null,
      maxIterations: LOOP_ITERATIONS,
    });
    const iterationMs = summarize(iterationTimes(loopEvents));

    say(`swarm: ${BARE_ROUNDS} bare executions and ${BARE_ROUNDS} bare model calls`);
    const exec: number[] = [];
    for (let i = 0; i < BARE_ROUNDS; i++) {
      signal.throwIfAborted();
      const t0 = performance.now();
      const result = await api.execute({ language: "python", code: TRIVIAL });
      exec.push(performance.now() - t0);
      if (result.status !== "succeeded") throw new Error(`a bare execution ended ${result.status}`);
    }
    const sdk = new Anthropic({ apiKey, baseURL: anthropic.url, maxRetries: 0 });
    const model: number[] = [];
    for (let i = 0; i < BARE_ROUNDS; i++) {
      signal.throwIfAborted();
      const t0 = performance.now();
      await sdk.messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 1024,
        messages: [{ role: "user", content: `[trivial:1] round ${i}` }],
      });
      model.push(performance.now() - t0);
    }
    const bareExecutionMs = summarize(exec);
    const bareModelMs = summarize(model);
    const ratio = iterationMs.p50 / (bareExecutionMs.p50 + bareModelMs.p50);
    const saving = uncached.billedInput / cached.billedInput;
    const savingShort = uncached.billedInput / cachedShort.billedInput;
    if (anthropic.violations.length > 0) {
      throw new Error(`the fake Anthropic server saw protocol violations: ${JSON.stringify(anthropic.violations)}`);
    }
    return {
      cost: { iterations: COST_ITERATIONS, uncached, cached, cachedShort, saving, savingShort },
      loop: { iterations: LOOP_ITERATIONS, iterationMs, bareExecutionMs, bareModelMs, ratio },
      targets: [
        target("billed input, uncached / cached", saving, ">=", 5, "x"),
        target("  the same with fullTurns 1", savingShort, ">=", 5, "x"),
        target("request 12 / request 3 (cached)", cached.request12Chars / cached.request3Chars, "<=", 2, "x"),
        target("loop iteration / (execution + model)", ratio, "<=", 1.2, "x"),
      ],
    };
  } finally {
    await coder.stop();
  }
}

export function formatSwarmTable(r: SwarmResult): string {
  const sides = [r.cost.uncached, r.cost.cached, r.cost.cachedShort];
  const row = (title: string, f: (c: CostSide) => string) =>
    `  ${title.padEnd(36)}${sides.map((c) => f(c).padStart(14)).join("")}`;
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  const ms = (s: Summary) => `${s.p50.toFixed(1).padStart(9)}${s.p95.toFixed(1).padStart(9)}`;
  return [
    `edgeswarm swarm cost: a ${r.cost.iterations}-iteration run whose programs print 40 KB (fake Anthropic, its cache by the prefix rule)`,
    "",
    `  ${"coder input tokens".padEnd(36)}${"uncached".padStart(14)}${"cached, K=3".padStart(14)}${"cached, K=1".padStart(14)}`,
    row("all input", (c) => n(c.inputTokens)),
    row("  read from the cache (0.1x)", (c) => n(c.cacheReadTokens)),
    row("  written to the cache (1.25x)", (c) => n(c.cacheWriteTokens)),
    row("billed input", (c) => n(c.billedInput)),
    row("request 3 / 12 (characters)", (c) => `${c.request3Chars}/${c.request12Chars}`),
    "",
    `  loop: ${r.loop.iterations} trivial iterations, instant model              p50 ms   p95 ms`,
    `  ${"one iteration (coder turn to execution.finished)".padEnd(52)}${ms(r.loop.iterationMs)}`,
    `  ${"a bare execution (POST /v1/executions)".padEnd(52)}${ms(r.loop.bareExecutionMs)}`,
    `  ${"a bare model call (the SDK to the fake)".padEnd(52)}${ms(r.loop.bareModelMs)}`,
    "",
    ...r.targets.map((t) => `  ${formatTarget(t, 44)}`),
    "",
  ].join("\n");
}
