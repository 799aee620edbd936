import {
  type AgentFrame,
  type AgentHealth,
  type AgentSandbox,
  CLOSE_CODES,
  EDGESWARM_VERSION,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  parseFrame,
  WorkerFrame,
} from "@edgeswarm/shared";
import WebSocket from "ws";
import { Backoff } from "./backoff.ts";
import { type AgentConfig, connectUrl } from "./config.ts";
import type { Executor } from "./executor.ts";
import type { Logger } from "./log.ts";
import type { AgentMetrics } from "./metrics.ts";

/** A refusal that retrying will not fix: a wrong token or an incompatible protocol. */
export class FatalConnectionError extends Error {
  override name = "FatalConnectionError";
}

/**
 * The agent's link to the Worker: dials out, says hello, heartbeats, hands
 * exec frames to the executor, and reconnects with backoff and jitter until
 * stopped. A lost connection cancels what was running: the Worker has already
 * failed those executions `agent_lost`, so nobody waits for their results.
 */
export class Connection {
  readonly #config: AgentConfig;
  readonly #executor: Executor;
  readonly #log: Logger;
  readonly #backoff = new Backoff();
  #ws: WebSocket | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #onFatal: (err: FatalConnectionError) => void = () => {};
  readonly #sampleHealth: () => AgentHealth;
  readonly #metrics: AgentMetrics | undefined;
  #health: AgentHealth | undefined;
  #welcomed = false;
  /** What the images hold (image-probe.ts), said in each hello; set before start. */
  sandboxes: AgentSandbox[] | undefined;

  /** `sampleHealth` closes a health window; it is called once per heartbeat interval. */
  constructor(
    config: AgentConfig,
    executor: Executor,
    log: Logger,
    sampleHealth: () => AgentHealth,
    metrics?: AgentMetrics,
  ) {
    this.#config = config;
    this.#executor = executor;
    this.#log = log;
    this.#sampleHealth = sampleHealth;
    this.#metrics = metrics;
    executor.onLoadChange = () => this.heartbeat();
  }

  /** Connects and keeps reconnecting; `onFatal` is called when retrying is pointless. */
  start(onFatal: (err: FatalConnectionError) => void): void {
    this.#onFatal = onFatal;
    this.#dial();
  }

  #dial(): void {
    const url = connectUrl(this.#config);
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${this.#config.token}` },
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: 10_000,
    });
    this.#ws = ws;

    ws.on("open", () => {
      this.#send({
        type: "agent.hello",
        protocolVersion: PROTOCOL_VERSION,
        agentId: this.#config.agentId,
        version: EDGESWARM_VERSION,
        capacity: this.#config.capacity,
        labels: this.#config.labels,
        images: this.#config.images,
        inFlight: this.#executor.inFlight,
        ...(this.sandboxes ? { sandboxes: this.sandboxes } : {}),
      });
    });
    ws.on("unexpected-response", (req, res) => {
      // The Worker answered the upgrade with an HTTP error. With this listener
      // ws emits no 'close', so this handler decides: give up or retry.
      const status = res.statusCode ?? 0;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.once("end", () => {
        req.destroy();
        const message = `the Worker refused the connection: HTTP ${status} ${describe(body)}`;
        if (status === 401 || status === 403) return this.#fatal(message);
        this.#log.warn(message);
        this.#reconnect();
      });
    });
    ws.on("message", (data, isBinary) => {
      if (isBinary) return this.#log.warn("ignored a binary frame from the Worker");
      this.#onFrame(data.toString());
    });
    ws.on("close", (code, reasonBuffer) => {
      const reason = reasonBuffer.toString();
      if (this.#ws === ws) this.#onClose(code, reason);
    });
    ws.on("error", (err) => {
      this.#log.debug(`connection error: ${err.message}`);
    });
  }

  #onFrame(text: string): void {
    const parsed = parseFrame(WorkerFrame, text);
    if (!parsed.ok) {
      this.#metrics?.rejectedFrames.inc({ reason: "bad_frame" });
      this.#log.warn(`refused a frame from the Worker: ${parsed.message}`);
      this.#send({ type: "error", error: { code: "bad_frame", message: parsed.message } });
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case "worker.welcome": {
        this.#backoff.reset();
        if (this.#welcomed) this.#metrics?.reconnects.inc();
        this.#welcomed = true;
        this.#executor.capacity = frame.capacity;
        const cut = frame.capacity < this.#config.capacity ? `, cut from ${this.#config.capacity} by its token` : "";
        this.#log.info(
          `connected to pool '${frame.pool}' as ${this.#config.agentId} (capacity ${frame.capacity}${cut})`,
        );
        clearInterval(this.#heartbeat);
        this.#heartbeat = setInterval(() => {
          this.#health = this.#sampleHealth();
          this.heartbeat();
        }, frame.heartbeatMs);
        return;
      }
      case "exec.start": {
        const ws = this.#ws;
        return this.#executor.start(frame, (text) => {
          // Frames of an execution go on the connection that leased it, never a later one.
          if (this.#ws === ws && ws?.readyState === WebSocket.OPEN) ws.send(text);
        });
      }
      case "exec.credit":
        return this.#executor.credit(frame.executionId, frame.chars);
      case "exec.cancel":
        return this.#executor.cancel(frame.executionId);
      case "error":
        if (frame.error.code !== "unknown_execution") {
          this.#log.warn(`the Worker reported: ${frame.error.code}: ${frame.error.message}`);
        }
        return;
    }
  }

  #onClose(code: number, reason: string): void {
    clearInterval(this.#heartbeat);
    this.#executor.cancelAll();
    if (this.#stopped) return;
    if (code === CLOSE_CODES.incompatibleVersion || code === CLOSE_CODES.idInUse) {
      return this.#fatal(`the Worker refused this agent: ${reason}`);
    }
    this.#log.info(`disconnected (${code}${reason ? ` ${reason}` : ""})`);
    this.#reconnect();
  }

  #reconnect(): void {
    if (this.#stopped) return;
    const delay = this.#backoff.next();
    this.#log.info(`reconnecting in ${delay} ms`);
    this.#retry = setTimeout(() => this.#dial(), delay);
  }

  #fatal(message: string): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#ws?.terminate();
    this.#onFatal(new FatalConnectionError(message));
  }

  /** Sends a heartbeat now (also used to announce draining at once). */
  heartbeat(): void {
    this.#send({
      type: "agent.heartbeat",
      inFlight: this.#executor.inFlight,
      draining: this.#executor.draining,
      ...(this.#health ? { health: this.#health } : {}),
    });
  }

  #send(frame: AgentFrame): void {
    const ws = this.#ws;
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  /** Closes the connection for good. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearInterval(this.#heartbeat);
    this.#ws?.close(CLOSE_CODES.normal, "agent stopping");
  }
}

function describe(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: { message?: string } };
    if (json.error?.message) return `(${json.error.message})`;
  } catch {
    // not our error body
  }
  return body ? `(${body.slice(0, 200)})` : "";
}
