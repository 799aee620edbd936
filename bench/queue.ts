import { DEFAULT_LIMITS, type ExecutionEvent, type ExecutionRequestInput } from "@edgeswarm/shared";
import { Api } from "../test/harness/api.ts";
import type { SimulatedAgent } from "../test/harness/simulated-agent.ts";
import { startStack, TENANTS } from "../test/harness/stack.ts";
import { TestWorker } from "../test/harness/test-worker.ts";
import { type Summary, summarize } from "./stats.ts";
import { type Target, target } from "./targets.ts";

// The pool's queue under load, two ways (see docs/benchmark.md):
//  - a burst: BURST executions from one tenant at once on SLOTS slots of real
//    agents, while a second tenant sends one execution at a time; what
//    completes, how long each waits, and how long the second tenant waits
//    against one execution's own time;
//  - one pool's ceiling: many executions from inside the Worker through one
//    PoolDO, to CEILING_AGENTS simulated agents that answer at once; leases
//    a second and their latency, beside plain RPCs to the same object.

export const BURST = 500;
export const SLOTS = 8;
const BURST_PROGRAM = "import time\ntime.sleep(0.2)\nprint('done')";
const NEIGHBOUR_KEY = "bench-burst-neighbour-key";
export const CEILING_AGENTS = 200;
const CEILING_LEASES = 4_000;
const CEILING_CONCURRENCY = 200;

export interface BurstResult {
  executions: number;
  slots: number;
  /** Succeeded, out of all. */
  completion: number;
  wallMs: number;
  /** From the request to `started`, over the burst. */
  waitMs: Summary;
  /** One execution's own time: `started` to `finished`, median over the burst. */
  ownMs: number;
  /** The neighbour's executions: from request to `started`. */
  neighbourWaitMs: Summary;
  /** ... and from reaching the pool (its first event) to `started`: its wait in the queue. */
  neighbourQueueMs: Summary;
  /** The neighbour's p99 wait in the queue over one execution's own time. */
  fairness: number;
  targets: Target[];
}

export interface CeilingResult {
  agents: number;
  leases: number;
  concurrency: number;
  leasesPerSecond: number;
  leaseMs: Summary;
  failed: number;
  /** An RPC to the same object that does nothing, same concurrency: the baseline. */
  rpcPerSecond: number;
  rpcMs: Summary;
}

interface Timed {
  requestedAt: number;
  /** Its first event (queued, or started at once): when the pool had it. */
  firstAt: number;
  startedAt: number;
  finishedAt: number;
  ok: boolean;
}

async function timed(api: Api, request: ExecutionRequestInput): Promise<Timed> {
  const requestedAt = performance.now();
  let firstAt = Number.NaN;
  let startedAt = Number.NaN;
  let ok = false;
  for await (const event of api.stream(request) as AsyncGenerator<ExecutionEvent & { at: number }>) {
    if (Number.isNaN(firstAt)) firstAt = event.at;
    if (event.type === "started") startedAt = event.at;
    if (event.type === "finished") {
      ok = event.result.status === "succeeded";
      return { requestedAt, firstAt, startedAt, finishedAt: event.at, ok };
    }
  }
  return { requestedAt, firstAt, startedAt, finishedAt: performance.now(), ok };
}

/** The burst: real agents, real Docker. */
export async function measureBurst(say: (line: string) => void): Promise<BurstResult> {
  say(`burst: starting a Worker and two agents of ${SLOTS / 2} slots...`);
  const stack = await startStack(
    "bench-burst",
    2,
    SLOTS / 2,
    {},
    {
      apiKeys: { [NEIGHBOUR_KEY]: { tenant: "neighbour", pools: [TENANTS.a.pool] } },
    },
  );
  try {
    const neighbour = new Api(stack.worker.url, NEIGHBOUR_KEY);
    const request = { language: "python", code: BURST_PROGRAM, queueTimeoutMs: 600_000 } as const;
    say(`burst: ${BURST} executions at once, and a neighbour's one at a time...`);
    const began = performance.now();
    let burstDone = false;
    const burst = Promise.all(Array.from({ length: BURST }, () => timed(stack.api, request))).finally(() => {
      burstDone = true;
    });
    const neighbours: Timed[] = [];
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (let i = 0; i < 1_000 && !burstDone; i++) neighbours.push(await timed(neighbour, request));
    const all = await burst;
    const wallMs = performance.now() - began;
    const ownMs = summarize(all.map((t) => t.finishedAt - t.startedAt)).p50;
    const waitMs = summarize(all.map((t) => t.startedAt - t.requestedAt));
    const neighbourWaitMs = summarize(neighbours.map((t) => t.startedAt - t.requestedAt));
    const neighbourQueueMs = summarize(neighbours.map((t) => t.startedAt - t.firstAt));
    const completion = all.filter((t) => t.ok).length / all.length;
    const fairness = neighbourQueueMs.p99 / ownMs;
    return {
      executions: BURST,
      slots: SLOTS,
      completion,
      wallMs,
      waitMs,
      ownMs,
      neighbourWaitMs,
      neighbourQueueMs,
      fairness,
      targets: [
        target("completion", completion, ">=", 1, "x"),
        target("neighbour's p99 wait in the queue / one execution", fairness, "<=", 1.5, "x"),
      ],
    };
  } finally {
    await stack.stop();
  }
}

/** One pool's ceiling: simulated agents, no Docker. */
export async function measureCeiling(say: (line: string) => void): Promise<CeilingResult> {
  say(`pool ceiling: starting the test Worker and ${CEILING_AGENTS} simulated agents...`);
  const worker = await TestWorker.start({ apiKeys: {}, agentTokens: {} });
  const agents: SimulatedAgent[] = [];
  try {
    for (let i = 0; i < CEILING_AGENTS; i += 20) {
      agents.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(20, CEILING_AGENTS - i) }, (_, j) =>
            worker.agent("ceiling", `sim-${i + j}`, { capacity: 4, tokenId: `token-${i + j}`, heartbeatMs: 5_000 }),
          ),
        )),
      );
    }
    const input = {
      id: "ex_000000000000000000000000",
      tenant: { id: "bench", concurrentExecutions: 10_000, queuedExecutions: 100_000 },
      spec: { language: "python", code: "x", files: [], args: [], env: {}, limits: DEFAULT_LIMITS },
      queueTimeoutMs: 60_000,
      queueMax: 100_000,
    };
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${worker.url}/__test/pools/ceiling/${path}`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`the test Worker answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { wallMs: number; latencies: number[]; failed: number };
    };
    // Warm both paths up, then time them.
    await post("load", { n: 200, concurrency: CEILING_CONCURRENCY, input });
    await post("agents", { n: 200, concurrency: CEILING_CONCURRENCY });
    say(`pool ceiling: ${CEILING_LEASES} leases, ${CEILING_CONCURRENCY} at a time...`);
    const leases = await post("load", { n: CEILING_LEASES, concurrency: CEILING_CONCURRENCY, input });
    const rpc = await post("agents", { n: CEILING_LEASES, concurrency: CEILING_CONCURRENCY });
    return {
      agents: CEILING_AGENTS,
      leases: CEILING_LEASES,
      concurrency: CEILING_CONCURRENCY,
      leasesPerSecond: (CEILING_LEASES / leases.wallMs) * 1000,
      leaseMs: summarize(leases.latencies),
      failed: leases.failed,
      rpcPerSecond: (CEILING_LEASES / rpc.wallMs) * 1000,
      rpcMs: summarize(rpc.latencies),
    };
  } finally {
    for (const agent of agents) agent.close();
    await worker.stop();
  }
}

const fmt = (x: number) => x.toFixed(1).padStart(9);

export function formatBurstTable(r: BurstResult): string {
  return [
    `the pool's queue: ${r.executions} executions of 0.2 s at once on ${r.slots} slots (two agents), a neighbour tenant one at a time`,
    "",
    `                                         p50 ms    p99 ms`,
    `  wait of the burst (request to started) ${fmt(r.waitMs.p50)} ${fmt(r.waitMs.p99)}`,
    `  wait of the neighbour (n = ${String(r.neighbourWaitMs.n).padEnd(4)})     ${fmt(r.neighbourWaitMs.p50)} ${fmt(r.neighbourWaitMs.p99)}`,
    `  ... of which in the pool's queue         ${fmt(r.neighbourQueueMs.p50)} ${fmt(r.neighbourQueueMs.p99)}`,
    `  one execution's own time (started to finished, p50) ${r.ownMs.toFixed(1)} ms`,
    `  completion ${(r.completion * 100).toFixed(1)}% in ${(r.wallMs / 1000).toFixed(1)} s; fairness (neighbour's p99 queue wait / one execution) ${r.fairness.toFixed(2)}x`,
    ...r.targets.map(
      (t) =>
        `  target: ${t.what} ${t.op === "<=" ? "≤" : "≥"} ${t.limit}x: ${t.value.toFixed(2)}x ${t.met ? "met" : "MISSED"}`,
    ),
    "",
  ].join("\n");
}

export function formatCeilingTable(r: CeilingResult): string {
  return [
    `one pool's ceiling: ${r.leases} leases through one PoolDO, ${r.concurrency} at a time, to ${r.agents} simulated agents that answer at once`,
    "",
    `                                          per second    p50 ms    p99 ms`,
    `  leases (execute, to the agent and back)  ${r.leasesPerSecond.toFixed(0).padStart(9)} ${fmt(r.leaseMs.p50)} ${fmt(r.leaseMs.p99)}`,
    `  an RPC that does nothing (baseline)      ${r.rpcPerSecond.toFixed(0).padStart(9)} ${fmt(r.rpcMs.p50)} ${fmt(r.rpcMs.p99)}`,
    `  leases / plain RPC: ${(r.leasesPerSecond / r.rpcPerSecond).toFixed(2)}x; failed leases: ${r.failed}`,
    "",
  ].join("\n");
}
