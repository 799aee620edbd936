import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENT_BIN, ROOT } from "../scripts/lib/paths.ts";
import { freePort } from "../scripts/lib/ports.ts";
import { Proc } from "../scripts/lib/process.ts";
import { waitForLine } from "../scripts/lib/wait.ts";
import { envFileText, startWrangler } from "../scripts/lib/wrangler.ts";
import { removeContainers } from "./docker.ts";

/** The sandbox agent's label naming its owner on every container it starts. */
export const AGENT_LABEL = "edgeswarm.agent";

/** A Worker and one agent of the bench's own, with a throwaway key and token. */
export interface BenchStack {
  url: string;
  apiKey: string;
  agentId: string;
  /** Stops the agent, the Worker, removes their state and any sandbox left behind. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the Worker (wrangler dev on a free loopback port, state in a temp dir)
 * and one agent of `capacity`, with `vars` added to the Worker's environment
 * (e.g. fake model servers). Stops what it started if any step fails or
 * `signal` aborts (checked between steps: wrangler dev cannot be handed over
 * half-started, so an interrupt waits for it).
 */
export async function startBenchStack(
  signal: AbortSignal,
  capacity = 4,
  vars: Record<string, string> = {},
  /** More environment for the agent process (e.g. OTEL_*). */
  agentEnv: Record<string, string> = {},
): Promise<BenchStack> {
  const dir = await mkdtemp(join(tmpdir(), "edgeswarm-bench-"));
  const apiKey = `bench-key-${randomBytes(12).toString("hex")}`;
  const token = `bench-token-${randomBytes(12).toString("hex")}`;
  const agentId = `bench-${randomBytes(4).toString("hex")}`;
  const procs: Proc[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () => {
    // The agent first: it drains, removes its sandboxes, and stops reconnecting.
    stopped ??= (async () => {
      for (const proc of procs.reverse()) await proc.stop("SIGTERM");
      await removeContainers(AGENT_LABEL, agentId);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const envFile = join(dir, "worker.env");
    await writeFile(
      envFile,
      envFileText({
        EDGESWARM_API_KEYS: JSON.stringify({ [apiKey]: { tenant: "bench", pools: ["bench"] } }),
        EDGESWARM_AGENT_TOKENS: JSON.stringify({ [token]: "bench" }),
        ...vars,
      }),
      { mode: 0o600 },
    );
    const port = await freePort();
    procs.push(await startWrangler({ port, envFile, persistTo: join(dir, "state"), logDir: join(dir, "logs") }));
    signal.throwIfAborted();
    const url = `http://127.0.0.1:${port}`;
    const agent = new Proc(
      process.execPath,
      // --warm: a warm pool as large as the capacity (the agent's default, spelled out so the bench keeps it).
      [
        AGENT_BIN,
        "--url",
        url,
        "--token",
        token,
        "--id",
        agentId,
        "--capacity",
        `${capacity}`,
        "--warm",
        `python=${capacity}`,
      ],
      { ...process.env, ...agentEnv },
      ROOT,
    );
    procs.push(agent);
    await Promise.race([
      waitForLine(agent.log, /connected to pool/, 30_000, `agent ${agentId} to connect`),
      agent.exited.then((code) => {
        throw new Error(`the agent exited with ${code} before it connected:\n${agent.log.all.slice(-10).join("\n")}`);
      }),
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
    ]);
    return { url, apiKey, agentId, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
