import { ROOT } from "../scripts/lib/paths.ts";
import { Proc } from "../scripts/lib/process.ts";
import { waitForLine } from "../scripts/lib/wait.ts";
import { agentScenario } from "./agent-latency.ts";
import { FILL_TIMEOUT_MS, type LocalAgent, startLocalAgent } from "./local-agent.ts";
import { measure, type Scenario } from "./measure.ts";
import { PoolWatch } from "./pool-watch.ts";
import { edgeswarmExecution, type WarmCount } from "./scenarios.ts";
import { type BenchStack, startBenchStack } from "./stack.ts";
import { type Summary, summarize } from "./stats.ts";
import { type Target, target } from "./targets.ts";

// What tracing costs: the same execution with spans exported to a local OTLP
// receiver (protobuf, the default) and with tracing off, in the same
// interleaved rounds; end to end through two Workers and their agents, then
// for the agent alone behind a fake Worker. See docs/benchmark.md.

const CAPACITY = 4;
/** The overhead goal at p50: traced / untraced. */
const MAX_RATIO = 1.05;

export interface TracingPair {
  traced: Summary;
  untraced: Summary;
  /** traced p50 / untraced p50. */
  ratio: number;
  /** Spans the receiver got, all rounds together. */
  spans: number;
}

export interface TracingResult {
  endToEnd: TracingPair;
  agent: TracingPair;
  targets: Target[];
}

interface Options {
  n: number;
  warmup: number;
  runTimeoutMs: number;
  signal: AbortSignal;
  say: (line: string) => void;
}

/** The OTLP receiver, in a process of its own (otlp-receiver-main.ts), and the spans it has had. */
class Receiver {
  readonly endpoint: string;
  readonly #proc: Proc;

  private constructor(endpoint: string, proc: Proc) {
    this.endpoint = endpoint;
    this.#proc = proc;
  }

  static async start(): Promise<Receiver> {
    const proc = new Proc(process.execPath, ["bench/otlp-receiver-main.ts"], process.env, ROOT);
    const line = await waitForLine(proc.log, /^listening /, 10_000, "the OTLP receiver to listen");
    return new Receiver(line.slice("listening ".length), proc);
  }

  /** Spans received so far (as of its last report, at most 100 ms old). */
  get spans(): number {
    const last = this.#proc.log.all.findLast((l) => l.startsWith("spans "));
    return Number(last?.slice("spans ".length) ?? 0);
  }

  async close(): Promise<void> {
    await this.#proc.stop();
  }
}

async function pair(traced: Scenario, untraced: Scenario, receiver: Receiver, o: Options): Promise<TracingPair> {
  const samples = await measure([traced, untraced], {
    n: o.n,
    warmup: o.warmup,
    signal: o.signal,
    runTimeoutMs: o.runTimeoutMs,
    onRound: (done, total) => {
      if (done % 10 === 0 || done === total) o.say(`tracing: round ${done}/${total}`);
    },
  });
  const t = summarize(samples.get(traced.name) ?? []);
  const u = summarize(samples.get(untraced.name) ?? []);
  // The last exports: the agent batches every 500 ms.
  await new Promise((done) => setTimeout(done, 1_000));
  return { traced: t, untraced: u, ratio: t.p50 / u.p50, spans: receiver.spans };
}

export async function measureTracing(o: Options): Promise<TracingResult> {
  const receiver = await Receiver.start();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
  const stacks: BenchStack[] = [];
  const pools: PoolWatch[] = [];
  const agents: LocalAgent[] = [];
  try {
    o.say("tracing: starting two Workers with an agent each, one exporting spans to a local receiver...");
    const on = await startBenchStack(o.signal, CAPACITY, otel, otel);
    stacks.push(on);
    const off = await startBenchStack(o.signal, CAPACITY);
    stacks.push(off);
    for (const s of stacks) {
      const pool = await PoolWatch.start(s.agentId);
      pools.push(pool);
      await pool.untilFull(CAPACITY, FILL_TIMEOUT_MS, o.signal);
    }
    const served: WarmCount = { runs: 0, cold: 0 };
    const rename = (s: Scenario, name: string, title: string): Scenario => ({ ...s, name, title });
    const endToEnd = await pair(
      rename(edgeswarmExecution(on, pools[0] as PoolWatch, CAPACITY, served), "traced", "POST /v1/executions, traced"),
      rename(edgeswarmExecution(off, pools[1] as PoolWatch, CAPACITY, served), "untraced", "POST /v1/executions"),
      receiver,
      o,
    );
    if (endToEnd.spans === 0) throw new Error("the traced Worker sent no span: tracing was not on");
    for (const s of stacks.splice(0)) await s.stop();
    for (const p of pools.splice(0)) p.close();

    o.say("tracing: the agent alone, two agents behind fake Workers, one exporting spans...");
    const before = receiver.spans;
    agents.push(await startLocalAgent({ capacity: CAPACITY, heartbeatMs: 5_000, signal: o.signal, env: otel }));
    agents.push(await startLocalAgent({ capacity: CAPACITY, heartbeatMs: 5_000, signal: o.signal }));
    const agentSide = await pair(
      agentScenario(agents[0] as LocalAgent, served, "agent-traced", "agent, traced"),
      agentScenario(agents[1] as LocalAgent, served, "agent-untraced", "agent"),
      receiver,
      o,
    );
    agentSide.spans -= before;
    if (agentSide.spans === 0) throw new Error("the traced agent sent no span: tracing was not on");
    return {
      endToEnd,
      agent: agentSide,
      targets: [
        target("end to end, traced / untraced p50", endToEnd.ratio, "<=", MAX_RATIO, "x"),
        target("agent alone, traced / untraced p50", agentSide.ratio, "<=", MAX_RATIO, "x"),
      ],
    };
  } finally {
    for (const p of pools) p.close();
    for (const s of stacks) await s.stop().catch(() => {});
    for (const a of agents) await a.stop().catch(() => {});
    await receiver.close();
  }
}

const ms = (x: number) => x.toFixed(1).padStart(9);

export function formatTracingTable(r: TracingResult, n: number, warmup: number): string {
  const row = (title: string, p: TracingPair) =>
    `  ${title.padEnd(22)}${ms(p.untraced.p50)}${ms(p.traced.p50)}${ms(p.untraced.p95)}${ms(p.traced.p95)}${`${p.ratio.toFixed(3)}x`.padStart(10)}${String(p.spans).padStart(8)}`;
  return [
    `tracing overhead: print(sum(range(10))), ${n} runs each after ${warmup} warm-ups, traced and untraced interleaved`,
    "  (traced: spans exported as OTLP/protobuf to a receiver on loopback; untraced: no endpoint set)",
    "",
    `  ${"".padEnd(22)}${"p50 off".padStart(9)}${"p50 on".padStart(9)}${"p95 off".padStart(9)}${"p95 on".padStart(9)}${"on/off".padStart(10)}${"spans".padStart(8)}`,
    row("end to end", r.endToEnd),
    row("agent alone", r.agent),
    "",
    ...r.targets.map((t) => `  ${t.what} ≤ ${t.limit}x: ${t.value.toFixed(3)}x  ${t.met ? "met" : "MISSED"}`),
    "",
  ].join("\n");
}
