import type { AgentHealth } from "@edgeswarm/shared";
import type { HealthWindow } from "../test/harness/fake-worker.ts";
import { dockerApiOnce } from "./baselines.ts";
import { Bystander } from "./bystander.ts";
import { removeContainers } from "./docker.ts";
import { busyShare, type HostCpu, hostCpu, processCpuMs } from "./host-cpu.ts";
import { startLocalAgent } from "./local-agent.ts";
import { BENCH_LABEL, EXPECTED_STDOUT, WORKLOAD } from "./scenarios.ts";
import { percentile } from "./stats.ts";
import { type Target, target } from "./targets.ts";

// Sustained throughput at a fixed concurrency: raw Docker (a dockerode
// create/start/wait/remove loop per worker) against the real agent of the same
// capacity driven by the fake Worker, each for the same counted window after
// the same untimed warm-up; and the agent's own health from its heartbeats
// during its window. See docs/benchmark.md.

export const THROUGHPUT_CONCURRENCY = 8;
/** Untimed load before each counted window, so both are measured in a steady state. */
export const THROUGHPUT_WARMUP_S = 5;
/** 1 s health windows during the edgeswarm phase. */
const HEARTBEAT_MS = 1_000;
/** The bound on any one execution (or container) of the loops. */
const OP_TIMEOUT_MS = 30_000;

export interface HealthFigures {
  /** Heartbeat windows that lie inside the counted window. */
  windows: number;
  loopDelayP99Ms: { median: number; worst: number };
  rssBytes: { start: number; end: number; growth: number; max: number; last: number };
  /** Every window, in order, as the heartbeats carried it. */
  samples: AgentHealth[];
}

export interface ThroughputResult {
  concurrency: number;
  warmupS: number;
  durationS: number;
  /** hostCpuBusy: the share (0 to 1) of the host's CPUs busy during the counted window. */
  docker: { completions: number; perSecond: number; hostCpuBusy: number };
  edgeswarm: {
    completions: number;
    perSecond: number;
    hostCpuBusy: number;
    /** The agent process's own CPU time (all threads) during the window: per execution, and as a share of one core. */
    agentCpuMsPerExecution: number;
    agentCpuCores: number;
    capacity: number;
    warm: number;
    /** Executions over the warm-up and the window, and how many of them a cold container served. */
    executions: number;
    coldStarts: number;
  };
  /** edgeswarm / docker completions per second. */
  ratio: number;
  health: HealthFigures;
  /** A bare Node process's own loop delay in each counted window: the host's share of the agent's. */
  bystander: { docker: DelayFigures; edgeswarm: DelayFigures };
  targets: Target[];
}

/** Event-loop delay p99 over 1 s windows: the median window and the worst. */
export interface DelayFigures {
  windows: number;
  loopDelayP99Ms: { median: number; worst: number };
}

interface Window<P> {
  completions: number;
  /** performance.now() at the start and end of the counted window. */
  from: number;
  to: number;
  /** What `probe` read as the window opened and as it closed. */
  atFrom: P;
  atTo: P;
}

/** Calls `read` at `at` (performance.now()). */
function readAt<P>(at: number, read: () => Promise<P>): Promise<P> {
  return new Promise<P>((resolve, reject) => {
    setTimeout(() => read().then(resolve, reject), Math.max(0, at - performance.now()));
  });
}

/** Resolves with `work`, or rejects when `signal` aborts first (the work goes on; cleanup finds it by label). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * `concurrency` loops each doing `once` back to back for `warmupMs` (untimed)
 * and then `durationMs`; counts the completions that end inside the second
 * span. Stops everything at the first failure, and rethrows it. An interrupt
 * (`signal`) lets each loop finish the operation it is in, so what that
 * operation made is removed by it, not left behind.
 */
async function sustain<P>(options: {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  signal: AbortSignal;
  once(signal: AbortSignal): Promise<void>;
  /** Read as the counted window opens and as it closes (CPU counters). */
  probe(): Promise<P>;
}): Promise<Window<P>> {
  const failed = new AbortController();
  const from = performance.now() + options.warmupMs;
  const to = from + options.durationMs;
  const atFrom = readAt(from, options.probe);
  const atTo = readAt(to, options.probe);
  for (const reading of [atFrom, atTo]) reading.catch(() => {}); // awaited below, unless a loop failed first
  let completions = 0;
  const loop = async () => {
    while (performance.now() < to && !options.signal.aborted && !failed.signal.aborted) {
      await options.once(AbortSignal.any([failed.signal, AbortSignal.timeout(OP_TIMEOUT_MS)]));
      const at = performance.now();
      if (at >= from && at <= to) completions += 1;
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: options.concurrency }, () =>
      loop().catch((err: unknown) => {
        failed.abort(err);
        throw err;
      }),
    ),
  );
  options.signal.throwIfAborted();
  const failure = results.find((r) => r.status === "rejected");
  if (failure) throw failure.reason;
  return { completions, from, to, atFrom: await atFrom, atTo: await atTo };
}

/**
 * The health windows that lie in a counted window. A window closes when it is
 * sent and covers the windowMs before: keep those whose middle is inside.
 */
function within(windows: HealthWindow[], counted: { from: number; to: number }, whose: string): AgentHealth[] {
  const inside = windows
    .filter((w) => {
      const middle = w.at - w.health.windowMs / 2;
      return middle >= counted.from && middle <= counted.to;
    })
    .map((w) => w.health);
  if (inside.length === 0) {
    throw new Error(`no health window of ${whose} lies in the counted window; make BENCH_THROUGHPUT_S longer`);
  }
  return inside;
}

function delayFigures(windows: AgentHealth[]): DelayFigures {
  const p99s = windows.map((h) => h.loopDelayP99Ms);
  return { windows: windows.length, loopDelayP99Ms: { median: percentile(p99s, 50), worst: Math.max(...p99s) } };
}

function healthFigures(windows: AgentHealth[]): HealthFigures {
  const rss = windows.map((h) => h.rssBytes);
  const start = rss[0] as number;
  const end = rss.at(-1) as number;
  return {
    ...delayFigures(windows),
    rssBytes: { start, end, growth: end - start, max: Math.max(...rss), last: end },
    samples: windows,
  };
}

interface ThroughputOptions {
  runId: string;
  durationS: number;
  signal: AbortSignal;
  say: (line: string) => void;
}

export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  // The bystander watches its own loop through both phases.
  const bystander = Bystander.start();
  try {
    return await measurePhases(options, bystander);
  } finally {
    await bystander.stop();
  }
}

async function measurePhases(options: ThroughputOptions, bystander: Bystander): Promise<ThroughputResult> {
  const { runId, durationS, signal, say } = options;
  const base = {
    concurrency: THROUGHPUT_CONCURRENCY,
    warmupMs: THROUGHPUT_WARMUP_S * 1000,
    durationMs: durationS * 1000,
    signal,
  };
  const rate = (w: Window<unknown>) => w.completions / ((w.to - w.from) / 1000);

  // (a) first, with no agent running; (b) after every container of (a) is gone, on a fresh agent.
  say(`throughput: raw Docker, ${THROUGHPUT_CONCURRENCY} loops, ${THROUGHPUT_WARMUP_S} s warm-up + ${durationS} s`);
  let dockerWindow: Window<HostCpu>;
  try {
    dockerWindow = await sustain({ ...base, once: (s) => abortable(dockerApiOnce(runId), s), probe: hostCpu });
  } finally {
    await removeContainers(BENCH_LABEL, runId).catch(() => 0);
  }

  say(`throughput: starting an agent of capacity ${THROUGHPUT_CONCURRENCY} (warm pool ${THROUGHPUT_CONCURRENCY})...`);
  const agent = await startLocalAgent({ capacity: THROUGHPUT_CONCURRENCY, heartbeatMs: HEARTBEAT_MS, signal });
  try {
    say(
      `throughput: edgeswarm agent, ${THROUGHPUT_CONCURRENCY} loops, ${THROUGHPUT_WARMUP_S} s warm-up + ${durationS} s`,
    );
    const counted: string[] = [];
    const edgeWindow = await sustain({
      ...base,
      async once(s) {
        const f = await agent.worker.exec(WORKLOAD, s);
        if (f.outcome.status !== "succeeded" || f.outcome.exitCode !== 0 || f.stdout !== EXPECTED_STDOUT) {
          throw new Error(
            `expected exit 0 and stdout "45\\n", got ${JSON.stringify({ ...f.outcome, stdout: f.stdout })}`,
          );
        }
        counted.push(f.executionId);
      },
      probe: async () => ({ host: await hostCpu(), agentMs: await processCpuMs(agent.pid) }),
    });
    if (agent.worker.violations.length > 0) {
      throw new Error(`the agent broke the wire protocol: ${agent.worker.violations.slice(0, 5).join("; ")}`);
    }
    const health = healthFigures(within(agent.worker.health, edgeWindow, "the agent"));
    const docker = {
      completions: dockerWindow.completions,
      perSecond: rate(dockerWindow),
      hostCpuBusy: busyShare(dockerWindow.atFrom, dockerWindow.atTo),
    };
    const agentMs = edgeWindow.atTo.agentMs - edgeWindow.atFrom.agentMs;
    const edgeswarm = {
      completions: edgeWindow.completions,
      perSecond: rate(edgeWindow),
      hostCpuBusy: busyShare(edgeWindow.atFrom.host, edgeWindow.atTo.host),
      agentCpuMsPerExecution: agentMs / Math.max(1, edgeWindow.completions),
      agentCpuCores: agentMs / (edgeWindow.to - edgeWindow.from),
      capacity: agent.capacity,
      warm: agent.warm,
      executions: counted.length,
      coldStarts: counted.filter((id) => agent.pool.servedCold(id)).length,
    };
    const ratio = edgeswarm.perSecond / docker.perSecond;
    const MB = 1024 * 1024;
    return {
      concurrency: THROUGHPUT_CONCURRENCY,
      warmupS: THROUGHPUT_WARMUP_S,
      durationS,
      docker,
      edgeswarm,
      ratio,
      health,
      bystander: {
        docker: delayFigures(within(bystander.windows, dockerWindow, "the bystander")),
        edgeswarm: delayFigures(within(bystander.windows, edgeWindow, "the bystander")),
      },
      targets: [
        target("edgeswarm / docker, executions/s", ratio, ">=", 0.9, "x"),
        target("worst window loop delay p99", health.loopDelayP99Ms.worst, "<=", 10, "ms"),
        target("max RSS", health.rssBytes.max / MB, "<=", 150, "MiB"),
      ],
    };
  } finally {
    await agent.stop();
  }
}
