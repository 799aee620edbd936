import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type AgentLatencyResult, measureAgentLatency } from "./agent-latency.ts";
import { dockerRun } from "./baselines.ts";
import { formatDataStartTable, measureDataStart } from "./data-start.ts";
import { docker, preflight, removeContainers } from "./docker.ts";
import { FILL_TIMEOUT_MS } from "./local-agent.ts";
import { loadNow, machineInfo } from "./machine.ts";
import { measure, type Scenario } from "./measure.ts";
import { PoolWatch } from "./pool-watch.ts";
import { formatBurstTable, formatCeilingTable, measureBurst, measureCeiling } from "./queue.ts";
import { buildResult, formatRunsTable, formatTable, roundRuns } from "./report.ts";
import { formatAgentLatencyTable, formatThroughputTable } from "./report-agent.ts";
import { measureRuns } from "./runs.ts";
import { BENCH_LABEL, edgeswarmExecution, type WarmCount, WORKLOAD, workerRoundTrip } from "./scenarios.ts";
import { type BenchStack, startBenchStack } from "./stack.ts";
import { summarize } from "./stats.ts";
import { formatSwarmTable, measureSwarm } from "./swarm.ts";
import { target } from "./targets.ts";
import { formatTeamsTable, measureTeams } from "./teams.ts";
import { measureThroughput } from "./throughput.ts";
import { formatTracingTable, measureTracing } from "./tracing.ts";

// `npm run bench`: starts its own Worker and agent, times the scenarios one run
// at a time, prints a table; then, on a fresh Worker and agent with a fake
// model server, times the runs API (runs.ts) and prints its table; then what a
// run costs in billed input and loop time (swarm.ts); then a team's overhead
// per message beside the default team's per iteration (teams.ts); then times
// the agent on its own behind a fake Worker, under runc and runsc
// (agent-latency.ts), and its sustained throughput against raw Docker
// (throughput.ts); then what tracing costs (tracing.ts); then how fast a data
// program starts with and without --preload (data-start.ts); writes
// bench/results/latest.json. See docs/benchmark.md.

const WARMUP = 3;
const MAX_N = 1000;
const RUN_TIMEOUT_MS = 30_000;
const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));
/** The end-to-end stack's agent: its slots, and as many warm containers. */
const E2E_CAPACITY = 4;
const MAX_THROUGHPUT_S = 3600;

const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

const n = Number(process.env.BENCH_N ?? 40);
if (!Number.isInteger(n) || n < 1 || n > MAX_N) {
  say(`BENCH_N must be a whole number from 1 to ${MAX_N}, not '${process.env.BENCH_N}'`);
  process.exit(2);
}
const throughputS = Number(process.env.BENCH_THROUGHPUT_S ?? 60);
if (!Number.isInteger(throughputS) || throughputS < 1 || throughputS > MAX_THROUGHPUT_S) {
  say(
    `BENCH_THROUGHPUT_S must be a whole number of seconds from 1 to ${MAX_THROUGHPUT_S}, not '${process.env.BENCH_THROUGHPUT_S}'`,
  );
  process.exit(2);
}

// The first SIGINT/SIGTERM stops at the next safe point and cleans up; a second one
// leaves at once (and may leave the Worker, the agent or a container behind).
const interrupt = new AbortController();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (interrupt.signal.aborted) {
      say(`${sig} again: leaving without cleaning up`);
      process.exit(130);
    }
    say(`${sig}: stopping and cleaning up (${sig} again to leave at once)`);
    interrupt.abort(new Error(`interrupted by ${sig}`));
  });
}

const runId = randomBytes(4).toString("hex");
let stack: BenchStack | undefined;
let pool: PoolWatch | undefined;
let exitCode = 0;
// The host's load as each section begins and ends, printed under its table.
const loads: { section: string; start: number; end: number }[] = [];
let loadMark = loadNow();
const loadLine = (section: string) => {
  const end = loadNow();
  loads.push({ section, start: loadMark, end });
  const line = `  host load (1-minute average): ${loadMark.toFixed(2)} as this section began, ${end.toFixed(2)} as it ended\n`;
  loadMark = end;
  return line;
};
try {
  await preflight();
  const runtimes = Object.keys((await docker.info()).Runtimes ?? {});
  say("starting the Worker (wrangler dev) and one agent...");
  stack = await startBenchStack(interrupt.signal, E2E_CAPACITY);
  pool = await PoolWatch.start(stack.agentId);
  await pool.untilFull(E2E_CAPACITY, FILL_TIMEOUT_MS, interrupt.signal);
  const served: WarmCount = { runs: 0, cold: 0 };
  const retried: { scenario: string; error: string }[] = [];
  // docker-run is the baseline of the executions; the Worker's own round trip is context, with no ratio.
  const scenarios: Scenario[] = [
    edgeswarmExecution(stack, pool, E2E_CAPACITY, served),
    workerRoundTrip(stack),
    dockerRun(runId),
  ];
  say(`measuring: ${WARMUP} warm-up + ${n} rounds of ${scenarios.map((s) => s.name).join(", ")}`);
  const samples = await measure(scenarios, {
    n,
    warmup: WARMUP,
    signal: interrupt.signal,
    runTimeoutMs: RUN_TIMEOUT_MS,
    onRound: (done, total) => {
      if (done % 10 === 0 || done === total) say(`round ${done}/${total}`);
    },
    onRetry: (scenario, err) => {
      say(`${scenario.title} failed, repeating the run: ${err.message}`);
      retried.push({ scenario: scenario.name, error: err.message });
    },
  });
  const result = buildResult(
    {
      date: new Date().toISOString(),
      workload: WORKLOAD,
      concurrency: 1,
      n,
      warmup: WARMUP,
      machine: await machineInfo(),
    },
    scenarios.map((s) => {
      const ms = samples.get(s.name) ?? [];
      return { name: s.name, title: s.title, summary: summarize(ms), samplesMs: ms };
    }),
    "docker-run",
    ["edgeswarm"],
  );
  const e2e = result.scenarios.find((s) => s.name === "edgeswarm")?.summary;
  if (e2e) {
    result.e2e = {
      served,
      retried,
      targets: [target("edgeswarm p50", e2e.p50, "<=", 25, "ms"), target("edgeswarm p99", e2e.p99, "<=", 100, "ms")],
    };
  }
  result.load = loads;
  process.stdout.write(`\n${formatTable(result)}${loadLine("end to end")}\n`);
  // The runs phase has its own Worker and agent: stop these first, so the two never share the machine.
  pool.close();
  pool = undefined;
  await stack.stop();
  stack = undefined;
  say("runs: starting a Worker, one agent and a fake model server...");
  result.runs = roundRuns(await measureRuns(interrupt.signal, say));
  process.stdout.write(`\n${formatRunsTable(result.runs)}${loadLine("runs")}\n`);
  interrupt.signal.throwIfAborted();
  say("swarm: starting a Worker, one agent and a fake model server...");
  result.swarm = await measureSwarm(interrupt.signal, say);
  process.stdout.write(`\n${formatSwarmTable(result.swarm)}${loadLine("swarm")}\n`);
  interrupt.signal.throwIfAborted();
  say("teams: starting a Worker, one agent and a fake model server...");
  // Not a field of BenchResult (report.ts): written beside it in latest.json.
  const teams = await measureTeams(interrupt.signal, say);
  process.stdout.write(`\n${formatTeamsTable(teams)}${loadLine("teams")}\n`);

  // The pool's queue: a burst on real agents, then one pool's ceiling with simulated ones.
  interrupt.signal.throwIfAborted();
  result.burst = await measureBurst(say);
  process.stdout.write(`\n${formatBurstTable(result.burst)}${loadLine("burst")}\n`);
  interrupt.signal.throwIfAborted();
  result.ceiling = await measureCeiling(say);
  process.stdout.write(`\n${formatCeilingTable(result.ceiling)}${loadLine("pool ceiling")}\n`);

  // The agent on its own, behind a fake Worker: each runtime with its own agent, one after the other.
  const latency: AgentLatencyResult[] = [];
  for (const runtime of ["runc", "runsc"]) {
    if (!runtimes.includes(runtime)) {
      say(`agent latency: the Docker engine has no runtime '${runtime}'; skipping it`);
      continue;
    }
    const common = { runId, n, warmup: WARMUP, runTimeoutMs: RUN_TIMEOUT_MS, signal: interrupt.signal, say };
    latency.push(await measureAgentLatency({ ...common, runtime }));
  }
  result.agentLatency = latency;
  process.stdout.write(`\n${formatAgentLatencyTable(latency, n, WARMUP)}${loadLine("agent latency")}\n`);

  result.throughput = await measureThroughput({ runId, durationS: throughputS, signal: interrupt.signal, say });
  process.stdout.write(`\n${formatThroughputTable(result.throughput)}${loadLine("throughput")}\n`);

  result.tracing = await measureTracing({
    n,
    warmup: WARMUP,
    runTimeoutMs: RUN_TIMEOUT_MS,
    signal: interrupt.signal,
    say,
  });
  process.stdout.write(`\n${formatTracingTable(result.tracing, n, WARMUP)}${loadLine("tracing")}\n`);

  interrupt.signal.throwIfAborted();
  result.dataStart = await measureDataStart({
    n,
    warmup: WARMUP,
    runTimeoutMs: RUN_TIMEOUT_MS,
    signal: interrupt.signal,
    say,
  });
  process.stdout.write(`\n${formatDataStartTable(result.dataStart, n, WARMUP)}${loadLine("data start")}\n`);

  await mkdir(RESULTS, { recursive: true });
  // Times to 0.001 at most (the older sections are rounded further by buildResult and roundRuns).
  const rounded = (_: string, v: unknown) =>
    typeof v === "number" && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v;
  await writeFile(`${RESULTS}latest.json`, `${JSON.stringify({ ...result, teams }, rounded, 2)}\n`);
  say("wrote bench/results/latest.json");
} catch (err) {
  exitCode = interrupt.signal.aborted ? 130 : 1;
  say(interrupt.signal.aborted ? "interrupted" : `failed: ${(err as Error).message}`);
} finally {
  pool?.close();
  await stack?.stop().catch((err: Error) => say(`stopping the stack failed: ${err.message}`));
  const left = await removeContainers(BENCH_LABEL, runId).catch(() => 0);
  if (left > 0) say(`removed ${left} baseline container(s) an interrupted run left`);
}
// Explicit, so no lingering handle (a socket to the engine, a timer) delays the exit.
process.exit(exitCode);
