import Anthropic from "@anthropic-ai/sdk";
import type { RunEvent, RunEventOf, RunRequestInput, TeamInput } from "@edgeswarm/shared";
import { type FakeReply, type RecordedRequest, reply } from "../test/fakes/server.ts";
import { Api } from "../test/harness/api.ts";
import { createRun, followRun, getRun } from "../test/harness/runs.ts";
import { startCoderStack, turnOf } from "./coder-stack.ts";
import { FILL_TIMEOUT_MS } from "./local-agent.ts";
import { PoolWatch } from "./pool-watch.ts";
import { iterationSamples, RUNS_CAPACITY } from "./runs.ts";
import { type Summary, summarize } from "./stats.ts";

// What a team (issue 14) costs the run loop per team message, beside what the
// default team costs per iteration: one Worker and agent, a fake Anthropic
// server that answers every participant, the selector and the coder at once,
// and runs of the three kinds interleaved. See docs/benchmark.md, "Teams".

/** Messages of each timed team run (its termination: maxMessages). */
export const TEAM_MESSAGES = 20;
/** Iterations (run_code calls) of each timed default-team run. */
export const DEFAULT_ITERATIONS = 20;
/** Rounds: one run of each kind per round, the order rotating, so drift hits all three alike. */
export const TEAMS_ROUNDS = 3;
/** Bare model calls per round, timed after its runs. */
const BARE_CALLS = 20;
const RUN_TIMEOUT_MS = 180_000;
const PARTICIPANTS = ["alice", "bob"] as const;

const KINDS = ["default", "round_robin", "selector"] as const;
type Kind = (typeof KINDS)[number];

/** One kind's figures: each unit's time from the events' `at`, and that time less its model calls. */
export interface UnitFigures {
  /** Iterations or team messages timed, over all rounds. */
  units: number;
  /** Model calls (requests to the fake) per unit, counted. */
  modelCalls: number;
  /** Each unit's time: a message from the previous one's team.message (the first from run.created). */
  unitMs: Summary;
  /** unitMs less modelCalls bare model calls (p50), and for the default team less the program's own time. */
  overheadMs: Summary;
  /** run.created to run.finished over the units, averaged over the rounds. */
  wholeRunMsPerUnit: number;
}

export interface TeamsResult {
  messages: number;
  iterations: number;
  rounds: number;
  /** The Anthropic SDK in the bench to the fake and back: what one model call costs without the loop. */
  bareModelMs: Summary;
  default: UnitFigures & {
    /** The coder's turn alone (from the iteration's start to its reply) less one bare model call. */
    coderTurnOverheadMs: Summary;
    /** Timed executions whose container the agent created for them (its warm pool empty). */
    coldExecutions: number;
  };
  roundRobin: UnitFigures;
  selector: UnitFigures;
  /** overhead p50 per team message / the default team's overhead p50 per iteration. */
  ratios: { roundRobin: number; selector: number; roundRobinToCoderTurn: number; selectorToCoderTurn: number };
}

/** The text of a request's first message (a string, or Anthropic's text blocks). */
function firstText(request: RecordedRequest): string {
  const first = (request.body as { messages?: { content: unknown }[] } | undefined)?.messages?.[0]?.content;
  if (typeof first === "string") return first;
  return Array.isArray(first) ? first.map((b: { text?: string }) => b.text ?? "").join("") : "";
}

/**
 * The fake's one script for every run on the stack: the selector names the
 * participant who spoke least recently (so the two alternate, each pick
 * valid), a participant says one line and ends its turn, and the default
 * team's coder runs `print(1)` `[iterations:N]` times, then finishes.
 */
function answer(request: RecordedRequest): FakeReply {
  const text = firstText(request);
  const asked = /Who speaks next\? One of: ([^.]+)\./.exec(text);
  if (asked) {
    const names = (asked[1] ?? "").split(", ");
    const last = (name: string) => text.lastIndexOf(`\n\n${name}: `);
    const next = [...names].sort((a, b) => last(a) - last(b))[0] ?? "";
    return reply.text(next);
  }
  if (text.includes("It is your turn.")) return reply.text("Noted; over to the next member.");
  const iterations = Number(/\[iterations:(\d+)\]/.exec(text)?.[1] ?? 0);
  if (turnOf(request) < iterations) return reply.toolUse("run_code", { language: "python", code: "print(1)" });
  return reply.toolUse("finish", { summary: "printed 1", code: "print(1)", verdict: "success" });
}

/** A team of two assistants (no tools: only the orchestration is timed) that stops after `messages`. */
function team(kind: "round_robin" | "selector", messages: number): TeamInput {
  return {
    kind,
    participants: PARTICIPANTS.map((name) => ({ name, role: "assistant" as const, description: `${name}, a member` })),
    termination: { maxMessages: messages },
    ...(kind === "selector" ? { selector: { model: { provider: "anthropic" as const } } } : {}),
  };
}

const at = (e: RunEvent | undefined) => Date.parse(e?.at ?? "");

/** Each team message's time: from the previous team.message, the first from run.created. */
export function messageTimes(events: readonly RunEvent[]): number[] {
  const out: number[] = [];
  let from: RunEvent | undefined = events.find((e) => e.type === "run.created");
  for (const e of events) {
    if (e.type !== "team.message" || !from) continue;
    out.push(at(e) - at(from));
    from = e;
  }
  return out;
}

/** Follows a run to its end; throws unless it succeeded. */
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

/** A timed run's log, checked: the messages or iterations asked for, every selector pick valid. */
function check(kind: Kind, events: RunEvent[]): void {
  if (kind === "default") {
    const ok = events.filter((e) => e.type === "execution.finished" && e.payload.status === "succeeded").length;
    if (ok !== DEFAULT_ITERATIONS) throw new Error(`a default run made ${ok} successful executions`);
    return;
  }
  const speakers = events.flatMap((e) => (e.type === "team.message" ? [e.payload.speaker] : []));
  const alternating = speakers.every((s, i) => s === PARTICIPANTS[i % 2]);
  if (speakers.length !== TEAM_MESSAGES || !alternating) {
    throw new Error(`a ${kind} run's messages came from ${JSON.stringify(speakers)}`);
  }
  const picks = events.filter((e): e is RunEventOf<"team.selected"> => e.type === "team.selected");
  const want = kind === "selector" ? TEAM_MESSAGES : 0;
  if (picks.length !== want || picks.some((p) => p.payload.by !== "selector" || p.payload.speaker === null)) {
    throw new Error(`a ${kind} run's picks: ${JSON.stringify(picks.map((p) => p.payload))}`);
  }
}

function figures(
  unitMs: number[],
  lessMs: number[],
  wholeRun: number[],
  calls: number,
  bareP50: number,
  perUnit: number,
): UnitFigures {
  const modelCalls = calls / unitMs.length;
  return {
    units: unitMs.length,
    modelCalls,
    unitMs: summarize(unitMs),
    overheadMs: summarize(unitMs.map((ms, i) => ms - (lessMs[i] ?? 0) - modelCalls * bareP50)),
    wholeRunMsPerUnit: wholeRun.reduce((a, b) => a + b, 0) / wholeRun.length / perUnit,
  };
}

/**
 * Starts its own Worker and agent against a fake Anthropic server that answers
 * at once; after a warm-up run of each kind, {@link TEAMS_ROUNDS} rounds of a
 * default run of {@link DEFAULT_ITERATIONS} iterations, a round_robin run and
 * a selector run of {@link TEAM_MESSAGES} messages each, and bare model calls.
 * Stops all it started.
 */
export async function measureTeams(signal: AbortSignal, say: (line: string) => void): Promise<TeamsResult> {
  // The runs section's capacity (a warm pool of 16): with 4, twenty quick iterations in a row
  // outrun the pool's refill and every few pay a cold container (700 to 900 ms on 2 cores).
  const coder = await startCoderStack(signal, RUNS_CAPACITY, answer);
  const { stack, anthropic, apiKey } = coder;
  let pool: PoolWatch | undefined;
  try {
    pool = await PoolWatch.start(stack.agentId);
    await pool.untilFull(RUNS_CAPACITY, FILL_TIMEOUT_MS, signal);
    const api = new Api(stack.url, stack.apiKey);
    const body = (kind: Kind, size: number, label: string): RunRequestInput =>
      kind === "default"
        ? { task: `[iterations:${size}] Print 1 (${label}).`, planner: null, maxIterations: size }
        : { task: `Agree on a word (${label}).`, team: team(kind, size) };
    const sdk = new Anthropic({ apiKey, baseURL: anthropic.url, maxRetries: 0 });

    say("teams: a warm-up run of each kind");
    for (const kind of KINDS) await toEnd(api, await createRun(api, body(kind, 3, "warm-up")), signal);

    const coldBefore = pool.coldStarts.size;
    const logs = new Map<Kind, { events: RunEvent[]; calls: number }[]>(KINDS.map((k) => [k, []]));
    const bare: number[] = [];
    for (let round = 0; round < TEAMS_ROUNDS; round++) {
      const order = KINDS.map((_, i) => KINDS[(i + round) % KINDS.length] as Kind);
      say(`teams: round ${round + 1}/${TEAMS_ROUNDS}: ${order.join(", ")}, then ${BARE_CALLS} bare model calls`);
      for (const kind of order) {
        const size = kind === "default" ? DEFAULT_ITERATIONS : TEAM_MESSAGES;
        const before = anthropic.requests.length;
        const events = await toEnd(api, await createRun(api, body(kind, size, `round ${round + 1}`)), signal);
        check(kind, events);
        logs.get(kind)?.push({ events, calls: anthropic.requests.length - before });
      }
      for (let i = 0; i < BARE_CALLS; i++) {
        signal.throwIfAborted();
        const t0 = performance.now();
        await sdk.messages.create({
          // Any name does for the fake; a deprecated one (the Worker's default) makes the SDK warn on every call.
          model: "claude-sonnet-4-6",
          max_tokens: 1024,
          messages: [{ role: "user", content: `It is your turn. (bare call ${i})` }],
        });
        bare.push(performance.now() - t0);
      }
    }
    const coldExecutions = pool.coldStarts.size - coldBefore;
    if (anthropic.violations.length > 0) {
      throw new Error(`the fake Anthropic server saw protocol violations: ${JSON.stringify(anthropic.violations)}`);
    }

    const bareModelMs = summarize(bare);
    const runs = (kind: Kind) => logs.get(kind) ?? [];
    const calls = (kind: Kind) => runs(kind).reduce((n, r) => n + r.calls, 0);
    const wholeRun = (kind: Kind) => runs(kind).map((r) => at(r.events.at(-1)) - at(r.events[0]));
    const teamFigures = (kind: "round_robin" | "selector") => {
      const times = runs(kind).flatMap((r) => messageTimes(r.events));
      return figures(times, [], wholeRun(kind), calls(kind), bareModelMs.p50, TEAM_MESSAGES);
    };

    // The default team: runs.ts's split of each iteration (the coder's turn, then dispatch and the program).
    const samples = runs("default").flatMap((r) => iterationSamples(r.events));
    const iterationMs = samples.map((s) => s.coderMs + s.dispatchMs + s.executionMs);
    // The coder's final reply (finish) is a model call of no iteration: not counted per iteration.
    const defaultCalls = calls("default") - runs("default").length;
    const base = figures(
      iterationMs,
      samples.map((s) => s.executionMs),
      wholeRun("default"),
      defaultCalls,
      bareModelMs.p50,
      DEFAULT_ITERATIONS,
    );
    const coderTurnOverheadMs = summarize(samples.map((s) => s.coderMs - base.modelCalls * bareModelMs.p50));
    const roundRobin = teamFigures("round_robin");
    const selector = teamFigures("selector");
    return {
      messages: TEAM_MESSAGES,
      iterations: DEFAULT_ITERATIONS,
      rounds: TEAMS_ROUNDS,
      bareModelMs,
      default: { ...base, coderTurnOverheadMs, coldExecutions },
      roundRobin,
      selector,
      ratios: {
        roundRobin: roundRobin.overheadMs.p50 / base.overheadMs.p50,
        selector: selector.overheadMs.p50 / base.overheadMs.p50,
        roundRobinToCoderTurn: roundRobin.overheadMs.p50 / coderTurnOverheadMs.p50,
        selectorToCoderTurn: selector.overheadMs.p50 / coderTurnOverheadMs.p50,
      },
    };
  } finally {
    pool?.close();
    await coder.stop();
  }
}

export function formatTeamsTable(r: TeamsResult): string {
  const ms = (s: Summary) => `${s.p50.toFixed(1).padStart(9)}${s.p95.toFixed(1).padStart(9)}`;
  const row = (title: string, s: Summary, extra = "") => `  ${title.padEnd(64)}${ms(s)}${extra}`;
  const whole = (f: UnitFigures) => `${f.wholeRunMsPerUnit.toFixed(1).padStart(12)}`;
  const x = (v: number) => `${v.toFixed(2)}x`;
  return [
    `edgeswarm teams: ${r.rounds} rounds of a default run (${r.iterations} iterations of print(1)), a round_robin and a selector run (${r.messages} messages each, two assistants), instant fake Anthropic`,
    "",
    `  ${"".padEnd(64)}   p50 ms   p95 ms  whole run ms`,
    row("default team, one iteration (coder turn to execution.finished)", r.default.unitMs, whole(r.default)),
    row("  overhead: less the program's own time and the model call", r.default.overheadMs),
    row("  of which the coder turn, less the model call", r.default.coderTurnOverheadMs),
    row("round_robin, one team message", r.roundRobin.unitMs, whole(r.roundRobin)),
    row(`  overhead: less ${r.roundRobin.modelCalls.toFixed(2)} model call(s)`, r.roundRobin.overheadMs),
    row("selector, one team message (the pick, then the speaker)", r.selector.unitMs, whole(r.selector)),
    row(`  overhead: less ${r.selector.modelCalls.toFixed(2)} model call(s)`, r.selector.overheadMs),
    row("a bare model call (the SDK to the fake)", r.bareModelMs),
    "",
    `  default-team executions served by a cold container: ${r.default.coldExecutions}/${r.default.units}`,
    "",
    "  overhead p50 per team message / the default team's per iteration (and / its coder turn alone)",
    `    round_robin  ${x(r.ratios.roundRobin).padStart(7)}  (${x(r.ratios.roundRobinToCoderTurn)})`,
    `    selector     ${x(r.ratios.selector).padStart(7)}  (${x(r.ratios.selectorToCoderTurn)})`,
    "",
  ].join("\n");
}
