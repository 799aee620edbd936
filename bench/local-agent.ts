import { randomBytes } from "node:crypto";
import { AGENT_BIN, ROOT } from "../scripts/lib/paths.ts";
import { Proc } from "../scripts/lib/process.ts";
import { waitForLine } from "../scripts/lib/wait.ts";
import { FakeWorker } from "../test/harness/fake-worker.ts";
import { removeContainers } from "./docker.ts";
import { PoolWatch } from "./pool-watch.ts";
import { AGENT_LABEL } from "./stack.ts";

/** The real agent process, connected to the bench's fake Worker, its containers watched. */
export interface LocalAgent {
  id: string;
  capacity: number;
  /** Warm containers the agent keeps (its default: the capacity, for its one image). */
  warm: number;
  runtime: string | undefined;
  /** The agent process's pid. */
  pid: number;
  worker: FakeWorker;
  pool: PoolWatch;
  /** Stops the agent (SIGTERM: it drains and removes its containers), then removes any left. Idempotent. */
  stop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 30_000;
/** Filling a pool from nothing: gVisor containers are slow to start on a small machine. */
export const FILL_TIMEOUT_MS = 120_000;

/**
 * Starts a fake Worker and one real agent process (`sandbox-agent/bin`) of
 * `capacity` dialling it, and waits until the agent's warm pool is full.
 * Stops all it started if a step fails or `signal` aborts.
 */
export async function startLocalAgent(options: {
  capacity: number;
  runtime?: string | undefined;
  heartbeatMs: number;
  signal: AbortSignal;
  /** More environment for the agent process (e.g. OTEL_*). */
  env?: Record<string, string>;
  /** More flags for the agent (e.g. --preload). */
  args?: string[];
}): Promise<LocalAgent> {
  const { capacity, runtime, heartbeatMs, signal } = options;
  const id = `bench-${randomBytes(4).toString("hex")}`;
  const token = `bench-token-${randomBytes(12).toString("hex")}`;
  const worker = await FakeWorker.start({ token, heartbeatMs });
  let pool: PoolWatch | undefined;
  let proc: Proc | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await proc?.stop("SIGTERM", 30_000);
      await removeContainers(AGENT_LABEL, id);
      pool?.close();
      await worker.close();
    })();
    return stopped;
  };
  try {
    pool = await PoolWatch.start(id);
    const args = [AGENT_BIN, "--url", worker.url, "--token", token, "--id", id, "--capacity", String(capacity)];
    args.push("--warm", `python=${capacity}`);
    if (runtime) args.push("--runtime", runtime);
    args.push(...(options.args ?? []));
    proc = new Proc(process.execPath, args, { ...process.env, ...options.env }, ROOT);
    const agent = proc;
    await Promise.race([
      Promise.all([
        worker.connected(),
        waitForLine(agent.log, /connected to pool/, CONNECT_TIMEOUT_MS, `agent ${id} to connect`),
      ]),
      agent.exited.then((code) => {
        throw new Error(`the agent exited with ${code} before it connected:\n${agent.log.all.slice(-10).join("\n")}`);
      }),
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
    ]);
    await pool.untilFull(capacity, FILL_TIMEOUT_MS, signal);
    return { id, capacity, warm: capacity, runtime, pid: agent.child.pid ?? 0, worker, pool, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
