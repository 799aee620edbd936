import type { Scenario } from "./measure.ts";
import type { PoolWatch } from "./pool-watch.ts";
import type { BenchStack } from "./stack.ts";

/** The workload: trivial Python, so the figures are the cost of a sandbox, not of the code. */
export const WORKLOAD = "print(sum(range(10)))";
export const EXPECTED_STDOUT = "45\n";

/** Labels the bench's own `docker run` containers, so cleanup can find any an interrupt left. */
export const BENCH_LABEL = "edgeswarm.bench";

const clip = (text: string) => (text.length > 500 ? `${text.slice(0, 500)}...` : text);

/** Between runs, the longest wait (untimed) for an agent's warm pool to be full again. */
export const SETTLE_TIMEOUT_MS = 30_000;

/** Executions of one scenario, and how many of them a cold (not warm) container served. */
export interface WarmCount {
  runs: number;
  cold: number;
}

/**
 * `GET /v1/agents`: the Worker's own round trip (the API key checked, one call
 * to the pool's Durable Object) with no sandbox behind it. Measured beside the
 * executions, it shows how much of their time is the local Worker path itself.
 */
export function workerRoundTrip(stack: BenchStack): Scenario {
  const headers = { Authorization: `Bearer ${stack.apiKey}` };
  return {
    name: "worker-round-trip",
    title: "GET /v1/agents (no sandbox)",
    async run(signal) {
      const started = performance.now();
      const res = await fetch(`${stack.url}/v1/agents`, { headers, signal });
      const text = await res.text();
      const ms = performance.now() - started;
      if (res.status !== 200 || !text.includes(`"id":"${stack.agentId}"`)) {
        throw new Error(`expected the agent ${stack.agentId} listed, got HTTP ${res.status}: ${clip(text)}`);
      }
      return ms;
    },
  };
}

/**
 * `POST /v1/executions` end to end: from the fetch until the JSON answer is
 * read. `pool` watches the stack's agent (warm pool of `warm`); between runs the
 * bench waits, untimed, until it is full again.
 */
export function edgeswarmExecution(stack: BenchStack, pool: PoolWatch, warm: number, count: WarmCount): Scenario {
  const body = JSON.stringify({ language: "python", code: WORKLOAD });
  const headers = { Authorization: `Bearer ${stack.apiKey}`, "Content-Type": "application/json" };
  let lastId: string | undefined;
  return {
    name: "edgeswarm",
    title: "edgeswarm POST /v1/executions",
    async run(signal) {
      const started = performance.now();
      const res = await fetch(`${stack.url}/v1/executions`, { method: "POST", headers, body, signal });
      const text = await res.text();
      let answer: { id?: string; status?: string; stdout?: string } = {};
      try {
        answer = JSON.parse(text);
      } catch {
        // reported below with the raw text
      }
      const ms = performance.now() - started;
      if (res.status !== 200 || answer.status !== "succeeded" || answer.stdout !== EXPECTED_STDOUT) {
        throw new Error(`expected status succeeded and stdout "45\\n", got HTTP ${res.status}: ${clip(text)}`);
      }
      lastId = answer.id;
      return ms;
    },
    // The agent answers before its container is removed and its pool refilled; wait for both, untimed.
    async settle(signal) {
      await pool.untilFull(warm, SETTLE_TIMEOUT_MS, signal);
      count.runs += 1;
      if (lastId && pool.servedCold(lastId)) count.cold += 1;
    },
  };
}
