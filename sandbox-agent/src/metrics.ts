import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Seconds, from 5 ms to 10 min: executions, acquisitions and waits all fall in it. */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** How an execution's container was had: taken from the warm pool, or started for it. */
export type Acquisition = "warm" | "cold";

/** What the runtime tells of each execution's phases (the executor tells the rest). */
export interface RunObserver {
  /** The container was had, `seconds` after the execution began. */
  acquired(kind: Acquisition, seconds: number): void;
  /** The program spawned, `seconds` after the execution began. */
  started(seconds: number): void;
}

export const NO_OBSERVER: RunObserver = { acquired: () => {}, started: () => {} };

/**
 * The agent's Prometheus metrics (prom-client, on a registry of its own),
 * served at `/metrics` on `--metrics-addr` when it is set. Every label has a
 * small, fixed set of values: nothing of an execution's own (its id, its
 * tenant's data) is ever a label.
 */
export class AgentMetrics implements RunObserver {
  readonly registry = new Registry();
  readonly executions: Counter<"status" | "language" | "runtime">;
  readonly executionSeconds: Histogram<"language" | "runtime">;
  readonly acquireSeconds: Histogram<"kind">;
  readonly startSeconds: Histogram<never>;
  readonly warm: Gauge<never>;
  readonly inFlight: Gauge<never>;
  readonly capacity: Gauge<never>;
  readonly reconnects: Counter<never>;
  readonly rejectedFrames: Counter<"reason">;

  /** `sample` reads the gauges that are state elsewhere (warm containers, in flight, capacity) at each scrape. */
  constructor(sample: () => { warm: number; inFlight: number; capacity: number }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "edgeswarm_agent_" });
    this.executions = new Counter({
      name: "edgeswarm_agent_executions_total",
      help: "Executions this agent ran to an outcome, by status, language and OCI runtime.",
      labelNames: ["status", "language", "runtime"],
      registers,
    });
    this.executionSeconds = new Histogram({
      name: "edgeswarm_agent_execution_duration_seconds",
      help: "From the lease's arrival to the outcome.",
      labelNames: ["language", "runtime"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.acquireSeconds = new Histogram({
      name: "edgeswarm_agent_container_acquire_seconds",
      help: "Having the execution's container: taken warm, or started cold.",
      labelNames: ["kind"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.startSeconds = new Histogram({
      name: "edgeswarm_agent_queue_to_start_seconds",
      help: "From the lease's arrival to the program's start.",
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.warm = new Gauge({
      name: "edgeswarm_agent_warm_containers",
      help: "Warm containers ready.",
      registers,
      collect: () => this.warm.set(sample().warm),
    });
    this.inFlight = new Gauge({
      name: "edgeswarm_agent_inflight_executions",
      help: "Executions running now.",
      registers,
      collect: () => this.inFlight.set(sample().inFlight),
    });
    this.capacity = new Gauge({
      name: "edgeswarm_agent_capacity",
      help: "Executions this agent may run at once, as the Worker holds it to.",
      registers,
      collect: () => this.capacity.set(sample().capacity),
    });
    this.reconnects = new Counter({
      name: "edgeswarm_agent_reconnects_total",
      help: "Connections to the Worker made again after one was lost.",
      registers,
    });
    this.rejectedFrames = new Counter({
      name: "edgeswarm_agent_rejected_frames_total",
      help: "Frames refused: from the Worker, malformed (bad_frame); of our own, over the protocol's maximum (oversize).",
      labelNames: ["reason"],
      registers,
    });
  }

  acquired(kind: Acquisition, seconds: number): void {
    this.acquireSeconds.observe({ kind }, seconds);
  }

  started(seconds: number): void {
    this.startSeconds.observe(seconds);
  }
}

/** Serves `GET /metrics` on `host:port`; resolves once it listens. */
export async function serveMetrics(metrics: AgentMetrics, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found: the metrics are at /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  server.listen(port, host);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([err]) => {
      throw err;
    }),
  ]);
  return new MetricsServer(server);
}

export class MetricsServer {
  readonly #server: Server;

  constructor(server: Server) {
    this.#server = server;
  }

  get address(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((done) => this.#server.close(() => done()));
  }
}
