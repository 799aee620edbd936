import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/lib/ports.ts";
import type { Proc } from "../../scripts/lib/process.ts";
import { envFileText, startWrangler } from "../../scripts/lib/wrangler.ts";

export interface WorkerConfig {
  /** API key → tenant and pools. */
  apiKeys: Record<string, { tenant: string; pools: string[] }>;
  /** Agent token → pool (or the pool and the token's most capacity). */
  agentTokens: Record<string, string | { pool: string; maxCapacity?: number }>;
  vars?: Record<string, string>;
  /** Another Worker's wrangler.toml, e.g. the test Worker's (test/workerd/); the project's own by default. */
  wranglerConfig?: string;
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
    await writeFile(
      envFile,
      envFileText({
        EDGESWARM_API_KEYS: JSON.stringify(this.config.apiKeys),
        EDGESWARM_AGENT_TOKENS: JSON.stringify(this.config.agentTokens),
        ...this.config.vars,
      }),
    );
    this.proc = await startWrangler({
      port: this.port,
      envFile,
      persistTo: join(this.dir, "state"),
      logDir: join(this.dir, "logs"),
      ...(this.config.wranglerConfig ? { config: this.config.wranglerConfig } : {}),
    });
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
