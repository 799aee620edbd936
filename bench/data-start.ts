import { docker } from "./docker.ts";
import { type LocalAgent, startLocalAgent } from "./local-agent.ts";
import { measure, type Scenario } from "./measure.ts";
import { EXPECTED_STDOUT, SETTLE_TIMEOUT_MS, type WarmCount, WORKLOAD } from "./scenarios.ts";
import { type Summary, summarize } from "./stats.ts";
import { formatTarget, type Target, target } from "./targets.ts";

// Data start: how long a data program takes at the agent when a warm
// container's interpreter has imported its modules ahead (--preload) and when
// it has not, beside the trivial program on the same agent, interleaved. Each
// agent runs alone, one after the other. Also what a warm container holds in
// memory either way. See docs/benchmark.md.

const CAPACITY = 2;
const HEARTBEAT_MS = 5_000;
export const DATA_WORKLOAD =
  'import pandas, numpy, matplotlib\ndf = pandas.DataFrame({"a": [1, 2, 3], "b": numpy.arange(3.0)})\nprint(int(df["a"].sum()))';
const DATA_STDOUT = "6\n";
const PRELOAD = "python=numpy,pandas,matplotlib";
const MiB = 1024 * 1024;
const QUIET_MS = 300;

export interface DataStartSide {
  preload: string | null;
  trivial: Summary;
  data: Summary;
  /** Mean memory of the agent's warm containers, idle: cgroup usage less page cache, as `docker stats` shows it. */
  warmMemoryMiB: number | null;
  served: WarmCount;
}

export interface DataStartResult {
  runtime: string;
  without: DataStartSide;
  with: DataStartSide;
  ratios: { preloadDataOverTrivialP50: number; plainDataOverTrivialP50: number };
  targets: Target[];
}

function scenario(agent: LocalAgent, served: WarmCount, name: string, code: string, expected: string): Scenario {
  let lastId = "";
  return {
    name,
    title: name,
    async run(signal) {
      const f = await agent.worker.exec(code, signal);
      lastId = f.executionId;
      if (f.outcome.status !== "succeeded" || f.stdout !== expected) {
        throw new Error(
          `expected stdout ${JSON.stringify(expected)}, got ${JSON.stringify({ ...f.outcome, stdout: f.stdout })}`,
        );
      }
      return f.receivedAt - f.sentAt;
    },
    async settle(signal) {
      // Full and idle: a preloading interpreter has finished its imports. Idle for longer
      // than the other sections ask: on a busy host an importing process can sit
      // unscheduled for tens of ms and look done.
      await agent.pool.untilFull(agent.warm, SETTLE_TIMEOUT_MS, signal, QUIET_MS);
      served.runs += 1;
      if (agent.pool.servedCold(lastId)) served.cold += 1;
    },
  };
}

/** The mean of `docker stats`' memory figure over the agent's warm containers. */
async function warmMemoryMiB(agentId: string): Promise<number | null> {
  const list = await docker.listContainers({ filters: { label: [`edgeswarm.agent=${agentId}`] } });
  const each = await Promise.all(
    list.map(async (c) => {
      const stats = (await docker.getContainer(c.Id).stats({ stream: false })) as {
        memory_stats?: { usage?: number; stats?: Record<string, number> };
      };
      const m = stats.memory_stats;
      if (m?.usage === undefined) return undefined;
      const cache = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? m.stats?.cache ?? 0;
      return (m.usage - cache) / MiB;
    }),
  );
  const known = each.filter((x): x is number => x !== undefined);
  return known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : null;
}

async function side(
  preload: string | null,
  options: { n: number; warmup: number; runTimeoutMs: number; signal: AbortSignal; say: (line: string) => void },
): Promise<DataStartSide> {
  const label = preload ? `with --preload ${preload}` : "without preload";
  options.say(`data start: an agent ${label}...`);
  const agent = await startLocalAgent({
    capacity: CAPACITY,
    heartbeatMs: HEARTBEAT_MS,
    signal: options.signal,
    args: preload ? ["--preload", preload] : [],
  });
  try {
    const served: WarmCount = { runs: 0, cold: 0 };
    const scenarios = [
      scenario(agent, served, "trivial", WORKLOAD, EXPECTED_STDOUT),
      scenario(agent, served, "data", DATA_WORKLOAD, DATA_STDOUT),
    ];
    const samples = await measure(scenarios, {
      n: options.n,
      warmup: options.warmup,
      signal: options.signal,
      runTimeoutMs: options.runTimeoutMs,
      onRound: (done, total) => {
        if (done % 10 === 0 || done === total) options.say(`data start (${label}): round ${done}/${total}`);
      },
      onRetry: (s, err) => options.say(`data start (${label}): ${s.name} failed, repeating: ${err.message}`),
    });
    await agent.pool.untilFull(agent.warm, SETTLE_TIMEOUT_MS, options.signal, QUIET_MS);
    return {
      preload,
      trivial: summarize(samples.get("trivial") ?? []),
      data: summarize(samples.get("data") ?? []),
      warmMemoryMiB: await warmMemoryMiB(agent.id),
      served,
    };
  } finally {
    await agent.stop();
  }
}

/** Measures an agent without preload, then one with it, each alone. */
export async function measureDataStart(options: {
  n: number;
  warmup: number;
  runTimeoutMs: number;
  signal: AbortSignal;
  say: (line: string) => void;
}): Promise<DataStartResult> {
  const without = await side(null, options);
  const withPreload = await side(PRELOAD, options);
  const ratios = {
    preloadDataOverTrivialP50: withPreload.data.p50 / withPreload.trivial.p50,
    plainDataOverTrivialP50: without.data.p50 / without.trivial.p50,
  };
  return {
    runtime: "runc",
    without,
    with: withPreload,
    ratios,
    targets: [target("data with preload / trivial, p50", ratios.preloadDataOverTrivialP50, "<=", 1.5, "x")],
  };
}

export function formatDataStartTable(r: DataStartResult, n: number, warmup: number): string {
  const num = (x: number) => x.toFixed(1).padStart(9);
  const width = 40;
  const row = (title: string, s: Summary) => `  ${title.padEnd(width)}${num(s.p50)}${num(s.p95)}`;
  const mem = (x: number | null) => (x === null ? "unknown" : `${x.toFixed(1)} MiB`);
  const cold = r.without.served.cold + r.with.served.cold;
  return [
    `Data start at the agent (runc, warm pool of ${CAPACITY}): \`import pandas, numpy, matplotlib\` and a tiny DataFrame, beside print(sum(range(10))); ${n} runs each after ${warmup} warm-ups, interleaved`,
    "  (from the fake Worker sending exec.start until exec.finished arrives; each agent alone)",
    "",
    `  ${"".padEnd(width)}   p50 ms   p95 ms`,
    row("trivial program, no preload", r.without.trivial),
    row("data program, no preload", r.without.data),
    row(`trivial program, --preload`, r.with.trivial),
    row(`data program, --preload`, r.with.data),
    "",
    `  data / trivial, p50: ${r.ratios.plainDataOverTrivialP50.toFixed(2)}x without preload, ${r.ratios.preloadDataOverTrivialP50.toFixed(2)}x with ${PRELOAD}`,
    `  each idle warm container holds ${mem(r.without.warmMemoryMiB)} without preload, ${mem(r.with.warmMemoryMiB)} with (docker stats: usage less page cache)`,
    ...(cold > 0 ? [`  ${cold} run(s) were served by a cold container: the figures are not all warm`] : []),
    "",
    `  ${formatTarget(r.targets[0] as Target, 40)}`,
    "",
  ].join("\n");
}
