import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, WRANGLER } from "./paths.ts";
import { freePort } from "./ports.ts";
import { Proc } from "./process.ts";
import { waitForLine } from "./wait.ts";

export interface WorkerConfig {
  /** API key → tenant and pools. */
  apiKeys: Record<string, { tenant: string; pools: string[] }>;
  /** Agent token → pool. */
  agentTokens: Record<string, string>;
  vars?: Record<string, string>;
}

/**
 * The real Worker in workerd, through `wrangler dev`, on a free loopback port,
 * with its Durable Object state persisted in a temporary directory so a
 * restart resumes the same state.
 */
export class WorkerProcess {
  readonly config: WorkerConfig;
  readonly dir: string;
  readonly port: number;
  proc: Proc | undefined;

  private constructor(config: WorkerConfig, dir: string, port: number) {
    this.config = config;
    this.dir = dir;
    this.port = port;
  }

  static async start(config: WorkerConfig): Promise<WorkerProcess> {
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-worker-"));
    const worker = new WorkerProcess(config, dir, await freePort());
    await worker.#launch();
    return worker;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async #launch(): Promise<void> {
    const envFile = join(this.dir, "worker.env");
    const vars = {
      EDGESWARM_API_KEYS: JSON.stringify(this.config.apiKeys),
      EDGESWARM_AGENT_TOKENS: JSON.stringify(this.config.agentTokens),
      ...this.config.vars,
    };
    await writeFile(envFile, Object.entries(vars).map(([k, v]) => `${k}=${v}`).join("\n"));
    const inspector = await freePort();
    this.proc = new Proc(
      process.execPath,
      [
        WRANGLER, "dev",
        "--ip", "127.0.0.1",
        "--port", String(this.port),
        "--inspector-port", String(inspector),
        "--env-file", envFile,
        "--persist-to", join(this.dir, "state"),
        "--show-interactive-dev-session=false",
      ],
      {
        ...process.env,
        // Keep wrangler on loopback: no Request.cf download, no metrics.
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_LOG_PATH: join(this.dir, "logs"),
        NO_COLOR: "1",
      },
      ROOT,
    );
    await Promise.race([
      waitForLine(this.proc.log, /Ready on http/, 60_000, "wrangler dev to be ready"),
      this.proc.exited.then((code) => {
        throw new Error(`wrangler dev exited with ${code} before it was ready:\n${this.proc?.log.all.slice(-20).join("\n")}`);
      }),
    ]);
    // "Ready" can precede the first request being served; one request proves it.
    const res = await fetch(`${this.url}/healthz`);
    if (!res.ok) throw new Error(`the Worker answered /healthz with ${res.status}`);
  }

  /** Kills wrangler (and workerd) without a graceful shutdown. */
  async kill(): Promise<void> {
    await this.proc?.stop("SIGKILL");
  }

  /** Stops and starts again on the same port and persisted state. */
  async restart(): Promise<void> {
    await this.proc?.stop("SIGTERM");
    await this.#launch();
  }

  async stop(): Promise<void> {
    await this.proc?.stop("SIGTERM");
    await rm(this.dir, { recursive: true, force: true });
  }
}
