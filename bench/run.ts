import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { preflight, removeContainers } from "./docker.ts";
import { machineInfo } from "./machine.ts";
import { measure, type Scenario } from "./measure.ts";
import { buildResult, formatRunsTable, formatTable, roundRuns } from "./report.ts";
import { measureRuns } from "./runs.ts";
import { BENCH_LABEL, dockerRun, edgeswarmExecution, WORKLOAD } from "./scenarios.ts";
import { type BenchStack, startBenchStack } from "./stack.ts";
import { summarize } from "./stats.ts";

// `npm run bench`: starts its own Worker and agent, times the scenarios one run
// at a time, prints a table; then, on a fresh Worker and agent with a fake
// model server, times the runs API (runs.ts) and prints its table; writes
// bench/results/latest.json. See README.md.

const WARMUP = 3;
const MAX_N = 1000;
const RUN_TIMEOUT_MS = 30_000;
const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));

const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

const n = Number(process.env.BENCH_N ?? 40);
if (!Number.isInteger(n) || n < 1 || n > MAX_N) {
  say(`BENCH_N must be a whole number from 1 to ${MAX_N}, not '${process.env.BENCH_N}'`);
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
let exitCode = 0;
try {
  await preflight();
  say("starting the Worker (wrangler dev) and one agent...");
  stack = await startBenchStack(interrupt.signal);
  // docker-run is the baseline: every other scenario gets a ratio to it.
  const scenarios: Scenario[] = [edgeswarmExecution(stack), dockerRun(runId)];
  say(`measuring: ${WARMUP} warm-up + ${n} rounds of ${scenarios.map((s) => s.name).join(", ")}`);
  const samples = await measure(scenarios, {
    n,
    warmup: WARMUP,
    signal: interrupt.signal,
    runTimeoutMs: RUN_TIMEOUT_MS,
    onRound: (done, total) => {
      if (done % 10 === 0 || done === total) say(`round ${done}/${total}`);
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
  );
  process.stdout.write(`\n${formatTable(result)}\n`);
  // The runs phase has its own Worker and agent: stop these first, so the two never share the machine.
  await stack.stop();
  stack = undefined;
  say("runs: starting a Worker, one agent and a fake model server...");
  result.runs = roundRuns(await measureRuns(interrupt.signal, say));
  process.stdout.write(`\n${formatRunsTable(result.runs)}\n`);
  await mkdir(RESULTS, { recursive: true });
  await writeFile(`${RESULTS}latest.json`, `${JSON.stringify(result, null, 2)}\n`);
  say("wrote bench/results/latest.json");
} catch (err) {
  exitCode = interrupt.signal.aborted ? 130 : 1;
  say(interrupt.signal.aborted ? "interrupted" : `failed: ${(err as Error).message}`);
} finally {
  await stack?.stop().catch((err: Error) => say(`stopping the stack failed: ${err.message}`));
  const left = await removeContainers(BENCH_LABEL, runId).catch(() => 0);
  if (left > 0) say(`removed ${left} docker run container(s) an interrupted run left`);
}
// Explicit, so no lingering handle (a socket to the engine, a timer) delays the exit.
process.exit(exitCode);
