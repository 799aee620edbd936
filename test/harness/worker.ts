import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/lib/ports.ts";
import type { Proc } from "../../scripts/lib/process.ts";
import { envFileText, startWrangler } from "../../scripts/lib/wrangler.ts";
import { type ContractWatch, watchContract } from "./contract.ts";

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
 *
 * Every answer the suite's own `fetch` gets from it is checked against the
 * OpenAPI document it serves (test/harness/contract.ts), and `stop()` fails
 * the suite's teardown with each answer that broke the contract.
 */
export class WorkerProcess {
  readonly config: WorkerConfig;
  readonly dir: string;
  readonly port: number;
  proc: Proc | undefined;
  #contract: ContractWatch | undefined;

  private constructor(config: WorkerConfig, dir: string, port: number) {
    this.config = config;
    this.dir = dir;
    this.port = port;
  }

  static async start(config: WorkerConfig): Promise<WorkerProcess> {
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-worker-"));
    const worker = new WorkerProcess(config, dir, await freePort());
    try {
      await worker.#launch();
      worker.#contract = await watchContract(worker.url);
    } catch (err) {
      await worker.stop();
      throw err;
    }
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

  /** The watch over this Worker's answers (test/harness/contract.ts). */
  get contract(): ContractWatch | undefined {
    return this.#contract;
  }

  /** Stops the Worker; then rejects if any answer it gave broke the contract. */
  async stop(): Promise<void> {
    await this.#contract?.stop();
    await this.proc?.stop("SIGTERM");
    await rm(this.dir, { recursive: true, force: true });
    const violations = this.#contract?.violations ?? [];
    if (violations.length > 0) {
      const shown = violations.slice(0, 20).map((v) => `  ${v}`);
      const more = violations.length > 20 ? [`  … and ${violations.length - 20} more`] : [];
      throw new Error(
        `${violations.length} answer(s) from the Worker broke its OpenAPI document:\n${[...shown, ...more].join("\n")}`,
      );
    }
  }
}
