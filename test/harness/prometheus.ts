import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/lib/ports.ts";
import { Proc } from "../../scripts/lib/process.ts";
import { pollUntil } from "./poll.ts";

/** One sample of an instant query: its labels and value. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/**
 * A real Prometheus server (Debian's `prometheus`) on loopback that scrapes
 * the given targets every second, with its data in a temporary directory.
 */
export class Prometheus {
  readonly url: string;
  readonly #proc: Proc;
  readonly #dir: string;

  private constructor(url: string, proc: Proc, dir: string) {
    this.url = url;
    this.#proc = proc;
    this.#dir = dir;
  }

  static async start(targets: string[]): Promise<Prometheus> {
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-prometheus-"));
    const config = [
      "global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      "  - job_name: edgeswarm-agent",
      `    static_configs: [{ targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}] }]`,
      "",
    ].join("\n");
    await writeFile(join(dir, "prometheus.yml"), config);
    const port = await freePort();
    const proc = new Proc(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      process.env,
      dir,
    );
    const server = new Prometheus(`http://127.0.0.1:${port}`, proc, dir);
    try {
      await pollUntil(
        async () => {
          if (!proc.running) throw new Error(`prometheus exited:\n${proc.log.all.slice(-20).join("\n")}`);
          const res = await fetch(`${server.url}/-/ready`).catch(() => undefined);
          return res?.ok ? true : undefined;
        },
        { timeoutMs: 30_000, what: "Prometheus to be ready" },
      );
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** An instant query through the HTTP API. */
  async query(promql: string): Promise<Sample[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== "success") throw new Error(`query ${promql} failed: ${body.error}`);
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async stop(): Promise<void> {
    await this.#proc.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
