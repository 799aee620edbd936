import { dockerExec, dockerRun, startExecTarget } from "./baselines.ts";
import { type LocalAgent, startLocalAgent } from "./local-agent.ts";
import { measure, type Scenario } from "./measure.ts";
import { EXPECTED_STDOUT, SETTLE_TIMEOUT_MS, type WarmCount, WORKLOAD } from "./scenarios.ts";
import { type Summary, summarize } from "./stats.ts";
import { type Target, target } from "./targets.ts";

// The agent on its own: the real agent process, driven by the bench's fake
// Worker, timed from the exec.start frame being sent until its exec.finished
// arrives, one run at a time, always served by a warm container; beside
// `docker exec` and `docker run --rm` of the same code, interleaved. See docs/benchmark.md.

/** Slots of the agent timed here; its warm pool has as many containers (the agent's default). */
export const LATENCY_CAPACITY = 4;
/** The heartbeat interval the real Worker asks for (worker/src/pool/pool-do.ts HEARTBEAT_MS). */
const WORKER_HEARTBEAT_MS = 5_000;

export interface LatencyScenario {
  name: string;
  title: string;
  summary: Summary;
  samplesMs: number[];
}

export interface AgentLatencyResult {
  runtime: string;
  capacity: number;
  warm: number;
  /** Executions (warm-ups included) and how many a cold container served (should be 0). */
  served: WarmCount;
  scenarios: LatencyScenario[];
  /** Baseline runs that failed and were repeated (the tool's own failures), with why. */
  retried: { scenario: string; error: string }[];
  /** Baseline p50 / edgeswarm p50: above 1, edgeswarm answered sooner. */
  ratios: { dockerRunP50: number; dockerExecP50: number };
  targets: Target[];
}

/** The agent's execution over the fake Worker; settles by waiting for a full pool again. */
export function agentScenario(
  agent: LocalAgent,
  served: WarmCount,
  name = "edgeswarm-agent",
  title = "edgeswarm agent, warm pool",
): Scenario {
  let lastId = "";
  return {
    name,
    title,
    async run(signal) {
      const f = await agent.worker.exec(WORKLOAD, signal);
      lastId = f.executionId;
      const o = f.outcome;
      if (o.status !== "succeeded" || o.exitCode !== 0 || f.stdout !== EXPECTED_STDOUT) {
        throw new Error(`expected exit 0 and stdout "45\\n", got ${JSON.stringify({ ...o, stdout: f.stdout })}`);
      }
      return f.receivedAt - f.sentAt;
    },
    async settle(signal) {
      await agent.pool.untilFull(agent.warm, SETTLE_TIMEOUT_MS, signal);
      served.runs += 1;
      if (agent.pool.servedCold(lastId)) served.cold += 1;
    },
  };
}

/**
 * Measures the agent under `runtime` (runc or runsc): starts its agent of
 * {@link LATENCY_CAPACITY} and a container to exec into, interleaves the three
 * methods for `warmup + n` rounds, stops both.
 */
export async function measureAgentLatency(options: {
  runtime: string;
  runId: string;
  n: number;
  warmup: number;
  runTimeoutMs: number;
  signal: AbortSignal;
  say: (line: string) => void;
}): Promise<AgentLatencyResult> {
  const { runtime, signal, say } = options;
  say(`agent latency (${runtime}): starting an agent of capacity ${LATENCY_CAPACITY} and a fake Worker...`);
  const agent = await startLocalAgent({
    capacity: LATENCY_CAPACITY,
    runtime,
    heartbeatMs: WORKER_HEARTBEAT_MS,
    signal,
  });
  const execTarget = await startExecTarget(options.runId, runtime).catch(async (err: unknown) => {
    await agent.stop();
    throw err;
  });
  try {
    const served: WarmCount = { runs: 0, cold: 0 };
    const retried: AgentLatencyResult["retried"] = [];
    const scenarios = [agentScenario(agent, served), dockerExec(execTarget), dockerRun(options.runId, runtime)];
    say(
      `agent latency (${runtime}): ${options.warmup} warm-up + ${options.n} rounds of ${scenarios.map((s) => s.name).join(", ")}`,
    );
    const samples = await measure(scenarios, {
      n: options.n,
      warmup: options.warmup,
      signal,
      runTimeoutMs: options.runTimeoutMs,
      onRound: (done, total) => {
        if (done % 10 === 0 || done === total) say(`agent latency (${runtime}): round ${done}/${total}`);
      },
      onRetry: (scenario, err) => {
        say(`agent latency (${runtime}): ${scenario.title} failed, repeating the run: ${err.message}`);
        retried.push({ scenario: scenario.name, error: err.message });
      },
    });
    if (agent.worker.violations.length > 0) {
      throw new Error(`the agent broke the wire protocol: ${agent.worker.violations.slice(0, 5).join("; ")}`);
    }
    const results = scenarios.map((s) => {
      const ms = samples.get(s.name) ?? [];
      return { name: s.name, title: s.title, summary: summarize(ms), samplesMs: ms };
    });
    const [edge, exec, run] = results.map((r) => r.summary) as [Summary, Summary, Summary];
    const ratios = { dockerRunP50: run.p50 / edge.p50, dockerExecP50: exec.p50 / edge.p50 };
    return {
      runtime,
      capacity: agent.capacity,
      warm: agent.warm,
      served,
      retried,
      scenarios: results,
      ratios,
      targets: [
        target("edgeswarm p50", edge.p50, "<=", 15, "ms"),
        target("edgeswarm p95", edge.p95, "<=", 40, "ms"),
        target("docker run / edgeswarm, p50", ratios.dockerRunP50, ">=", 20, "x"),
        target("docker exec / edgeswarm, p50", ratios.dockerExecP50, ">=", 4, "x"),
      ],
    };
  } finally {
    await execTarget.remove().catch(() => {});
    await agent.stop();
  }
}
