import type { AgentLatencyResult } from "./agent-latency.ts";
import type { DataStartResult } from "./data-start.ts";
import type { Machine } from "./machine.ts";
import type { BurstResult, CeilingResult } from "./queue.ts";
import type { RunsResult } from "./runs.ts";
import type { WarmCount } from "./scenarios.ts";
import type { Summary } from "./stats.ts";
import type { SwarmResult } from "./swarm.ts";
import { formatTarget, type Target } from "./targets.ts";
import type { ThroughputResult } from "./throughput.ts";
import type { TracingResult } from "./tracing.ts";

/** Everything one bench run found; written as bench/results/latest.json. */
export interface BenchResult {
  date: string;
  workload: string;
  concurrency: number;
  n: number;
  warmup: number;
  machine: Machine;
  scenarios: { name: string; title: string; summary: Summary; samplesMs: number[] }[];
  /** Each scenario's p50 and p95 divided by the baseline's: below 1 is faster than the baseline. */
  ratios: { of: string; to: string; p50: number; p95: number }[];
  /** The end-to-end figures against their targets, and how many executions a warm container served. */
  e2e?: { served: WarmCount; retried: { scenario: string; error: string }[]; targets: Target[] };
  /** The host's 1-minute load average as each section began and ended: other work shows in the figures. */
  load?: { section: string; start: number; end: number }[];
  /** The runs API figures (runs.ts), when measured. */
  runs?: RunsResult;
  burst?: BurstResult;
  ceiling?: CeilingResult;
  /** The agent on its own under each runtime (agent-latency.ts), when measured. */
  agentLatency?: AgentLatencyResult[];
  /** Sustained throughput and the agent's health (throughput.ts), when measured. */
  throughput?: ThroughputResult;
  dataStart?: DataStartResult;
  tracing?: TracingResult;
  /** What a run costs: billed input with and without caching, and loop time (swarm.ts). */
  swarm?: SwarmResult;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

const roundSummary = (s: Summary): Summary =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === "n" ? v : round(v, 2)])) as unknown as Summary;

/**
 * Builds the result, rounding times to 0.01 ms and ratios to 0.001 (more would
 * be noise). Every scenario in `compared` (by default all) gets a ratio to the baseline.
 */
export function buildResult(
  base: Omit<BenchResult, "scenarios" | "ratios">,
  scenarios: { name: string; title: string; summary: Summary; samplesMs: number[] }[],
  baseline: string,
  compared: string[] = scenarios.map((s) => s.name),
): BenchResult {
  const rounded = scenarios.map((s) => ({
    ...s,
    summary: roundSummary(s.summary),
    samplesMs: s.samplesMs.map((x) => round(x, 2)),
  }));
  const to = scenarios.find((s) => s.name === baseline);
  if (!to) throw new Error(`no baseline scenario '${baseline}'`);
  const ratios = scenarios
    .filter((s) => s !== to && compared.includes(s.name))
    .map((s) => ({
      of: s.name,
      to: to.name,
      p50: round(s.summary.p50 / to.summary.p50, 3),
      p95: round(s.summary.p95 / to.summary.p95, 3),
    }));
  return { ...base, scenarios: rounded, ratios };
}

/** The human-readable table of a result. */
export function formatTable(r: BenchResult): string {
  const width = Math.max(6, ...r.scenarios.map((s) => s.title.length));
  const num = (x: number) => x.toFixed(1).padStart(9);
  const m = r.machine;
  return [
    `edgeswarm bench: ${r.workload}, concurrency ${r.concurrency}, ${r.n} runs each after ${r.warmup} warm-ups, interleaved`,
    "",
    `  ${"method".padEnd(width)}   p50 ms   p95 ms   p99 ms  mean ms`,
    ...r.scenarios.map(
      (s) =>
        `  ${s.title.padEnd(width)}${num(s.summary.p50)}${num(s.summary.p95)}${num(s.summary.p99)}${num(s.summary.mean)}`,
    ),
    "",
    ...r.ratios.map(
      (x) => `  ${`${x.of} / ${x.to}`.padEnd(width)}  p50 ${x.p50.toFixed(2)}x  p95 ${x.p95.toFixed(2)}x`,
    ),
    "",
    ...(r.e2e
      ? [
          `  edgeswarm runs served by a warm container: ${r.e2e.served.runs - r.e2e.served.cold}/${r.e2e.served.runs} (warm-ups included)`,
          ...r.e2e.retried.map((x) => `  a ${x.scenario} run failed and was repeated: ${x.error.trim()}`),
          `  targets (with n = ${r.n}, p99 is a rough figure: it rests on the slowest run or two)`,
          ...r.e2e.targets.map((t) => `    ${formatTarget(t)}`),
          "",
        ]
      : []),
    `  cpu     ${m.cpu}, ${m.cores} cores`,
    `  ram     ${m.ramGiB} GiB`,
    `  kernel  ${m.kernel}`,
    `  docker  ${m.docker}`,
    `  node    ${m.node}`,
    `  load    ${m.loadAvg1m.toFixed(2)} (1-minute average when the bench started)`,
    "",
  ].join("\n");
}

/** The runs figures rounded like the rest: times to 0.01 ms, rates to 0.01. */
export function roundRuns(r: RunsResult): RunsResult {
  const o = r.overhead;
  return {
    overhead: {
      iterations: o.iterations,
      overheadMs: roundSummary(o.overheadMs),
      coderMs: roundSummary(o.coderMs),
      dispatchMs: roundSummary(o.dispatchMs),
      executionMs: roundSummary(o.executionMs),
      samples: o.samples.map((x) => ({
        coderMs: round(x.coderMs, 2),
        dispatchMs: round(x.dispatchMs, 2),
        executionMs: round(x.executionMs, 2),
        overheadMs: round(x.overheadMs, 2),
      })),
    },
    concurrent: {
      ...r.concurrent,
      wallMs: round(r.concurrent.wallMs, 2),
      runsPerSecond: round(r.concurrent.runsPerSecond, 2),
      runMs: roundSummary(r.concurrent.runMs),
    },
  };
}

/** The human-readable table of the runs figures. */
export function formatRunsTable(r: RunsResult): string {
  const o = r.overhead;
  const c = r.concurrent;
  const num = (x: number) => x.toFixed(1).padStart(9);
  const line = (title: string, s: Summary) => `  ${title.padEnd(40)}${num(s.p50)}${num(s.p95)}${num(s.mean)}`;
  return [
    `edgeswarm runs: an instant fake coder, ${o.iterations} loop iterations of one run; ${c.runs} runs at once`,
    "",
    `  ${"per loop iteration".padEnd(40)}   p50 ms   p95 ms  mean ms`,
    line("overhead (iteration - execution's own)", o.overheadMs),
    line("  coder turn (fake model, appends)", o.coderMs),
    line("  dispatch (pool, agent, sandbox)", o.dispatchMs),
    line("execution's own time (durationMs)", o.executionMs),
    "",
    `  ${c.runs} concurrent runs (1 iteration each, agent capacity ${c.capacity})`,
    `    wall time ${(c.wallMs / 1000).toFixed(2)} s, ${c.runsPerSecond.toFixed(2)} runs/s`,
    `    ${c.sandboxRetries} no_sandbox retries (a sandbox asked for while all ${c.capacity} slots were busy)`,
    `    per run (created to finished): p50 ${(c.runMs.p50 / 1000).toFixed(2)} s, p95 ${(c.runMs.p95 / 1000).toFixed(2)} s, max ${(c.runMs.max / 1000).toFixed(2)} s`,
    "",
  ].join("\n");
}
