import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import {
  AgentFrame,
  type AgentHealth,
  DEFAULT_LIMITS,
  type ExecutionId,
  type ExecutionOutcome,
  type Hello,
  MAX_FRAME_BYTES,
  newExecutionId,
  PROTOCOL_VERSION,
  parseFrame,
  WorkerFrame,
} from "@edgeswarm/shared";
import { type WebSocket, WebSocketServer } from "ws";

// The Worker as far as one real agent process is concerned: a WebSocket server
// on loopback at /v1/agents/connect that speaks the real wire protocol (every
// frame checked against the shared zod schemas both ways). The bench times the
// agent with it, without the Worker in the path; the backpressure suite uses it
// to lease more than the real scheduler ever would.

/** One execution's answer, with when its exec.start was sent and its exec.finished arrived (performance.now()). */
export interface Finished {
  executionId: ExecutionId;
  /** The agent's outcome, with the files its exec.file pieces carried. */
  outcome: ExecutionOutcome;
  /** When its exec.accepted arrived. */
  acceptedAt: number;
  stdout: string;
  stderr: string;
  sentAt: number;
  receivedAt: number;
}

/** One health window from a heartbeat, and when it arrived (performance.now()). */
export interface HealthWindow {
  at: number;
  health: AgentHealth;
}

interface Pending {
  stdout: string;
  stderr: string;
  files: { path: string; encoding: "utf8" | "base64"; content: string; complete: boolean }[];
  nextSeq: number;
  sentAt: number;
  acceptedAt: number;
  resolve(finished: Finished): void;
  reject(err: Error): void;
}

/** The window each execution starts with (the real Worker's largest). */
const WINDOW_CHARS = 1024 * 1024;

export class FakeWorker {
  readonly #server: WebSocketServer;
  readonly #heartbeatMs: number;
  readonly #pending = new Map<ExecutionId, Pending>();
  readonly #hello = Promise.withResolvers<Hello>();
  #agent: WebSocket | undefined;
  #lastHealth = "";
  /** Distinct health windows, in order (a heartbeat sent on a load change repeats the last one). */
  readonly health: HealthWindow[] = [];
  /** Frames from the agent that broke the protocol; the bench fails if there are any. */
  readonly violations: string[] = [];
  /** Called with each new health window as it arrives. */
  onHealth: (health: AgentHealth) => void = () => {};

  private constructor(server: WebSocketServer, heartbeatMs: number) {
    this.#server = server;
    this.#heartbeatMs = heartbeatMs;
    this.#hello.promise.catch(() => {}); // observed by connected()
    server.on("connection", (ws) => this.#accept(ws));
  }

  /** Listens on a free loopback port; agents must present `token`. */
  static async start(options: { token: string; heartbeatMs: number }): Promise<FakeWorker> {
    const server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      path: "/v1/agents/connect",
      maxPayload: MAX_FRAME_BYTES,
      verifyClient: ({ req }: { req: IncomingMessage }) => req.headers.authorization === `Bearer ${options.token}`,
    });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    return new FakeWorker(server, options.heartbeatMs);
  }

  /** The base URL to give the agent as --url. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves with the agent's hello once it has been welcomed. */
  connected(): Promise<Hello> {
    return this.#hello.promise;
  }

  /**
   * Sends one exec.start (default limits, as the Worker fills them in) and
   * resolves when its exec.finished arrives. Rejects if `signal` aborts (the
   * execution is cancelled) or the agent goes away.
   */
  exec(code: string, signal: AbortSignal): Promise<Finished> {
    const ws = this.#agent;
    if (!ws) return Promise.reject(new Error("no agent is connected to the fake Worker"));
    const executionId = newExecutionId();
    const text = JSON.stringify(
      WorkerFrame.parse({
        type: "exec.start",
        executionId,
        language: "python",
        code,
        files: [],
        args: [],
        env: {},
        limits: DEFAULT_LIMITS,
        window: WINDOW_CHARS,
      }),
    );
    const { promise, resolve, reject } = Promise.withResolvers<Finished>();
    const onAbort = () => {
      this.#pending.delete(executionId);
      this.#send(ws, { type: "exec.cancel", executionId, reason: "bench aborted" });
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    if (signal.aborted) {
      onAbort();
      return promise;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    const settle =
      <T>(fn: (x: T) => void) =>
      (x: T) => {
        signal.removeEventListener("abort", onAbort);
        fn(x);
      };
    const sentAt = performance.now();
    this.#pending.set(executionId, {
      stdout: "",
      stderr: "",
      files: [],
      nextSeq: 0,
      sentAt,
      acceptedAt: 0,
      resolve: settle(resolve),
      reject: settle(reject),
    });
    ws.send(text);
    return promise;
  }

  #accept(ws: WebSocket): void {
    if (this.#agent) {
      ws.close(4003, "the bench's fake Worker takes one agent");
      return;
    }
    this.#agent = ws;
    ws.on("message", (data, isBinary) => {
      const receivedAt = performance.now();
      if (isBinary) return void this.violations.push("a binary frame");
      this.#onFrame(ws, data.toString(), receivedAt);
    });
    ws.on("close", () => {
      if (this.#agent === ws) this.#agent = undefined;
      this.#hello.reject(new Error("the agent disconnected before it said hello"));
      for (const [id, p] of this.#pending) p.reject(new Error(`the agent disconnected during ${id}`));
      this.#pending.clear();
    });
  }

  #onFrame(ws: WebSocket, text: string, receivedAt: number): void {
    const parsed = parseFrame(AgentFrame, text);
    if (!parsed.ok) return void this.violations.push(parsed.message);
    const frame = parsed.frame;
    switch (frame.type) {
      case "agent.hello":
        if (frame.protocolVersion !== PROTOCOL_VERSION) {
          this.violations.push(`hello with protocol ${frame.protocolVersion}`);
          return ws.close(4001, "incompatible protocol version");
        }
        this.#send(ws, {
          type: "worker.welcome",
          protocolVersion: PROTOCOL_VERSION,
          pool: "bench",
          heartbeatMs: this.#heartbeatMs,
          ackTimeoutMs: 3_000,
          capacity: frame.capacity,
        });
        return this.#hello.resolve(frame);
      case "agent.heartbeat": {
        if (!frame.health) return;
        const key = JSON.stringify(frame.health);
        if (key === this.#lastHealth) return;
        this.#lastHealth = key;
        this.health.push({ at: receivedAt, health: frame.health });
        return this.onHealth(frame.health);
      }
      case "exec.accepted": {
        const p = this.#pending.get(frame.executionId);
        if (p) p.acceptedAt = receivedAt;
        return;
      }
      case "exec.output":
      case "exec.file": {
        const p = this.#pending.get(frame.executionId);
        if (!p) return;
        if (frame.seq !== p.nextSeq) this.violations.push(`${frame.type} seq ${frame.seq}, expected ${p.nextSeq}`);
        p.nextSeq = frame.seq + 1;
        if (frame.type === "exec.output") p[frame.stream] += frame.data;
        else {
          const open = p.files.at(-1);
          if (open && !open.complete && open.path === frame.path) open.content += frame.data;
          else p.files.push({ path: frame.path, encoding: frame.encoding, content: frame.data, complete: false });
          (p.files.at(-1) as { complete: boolean }).complete = !frame.more;
        }
        // Take everything at once: the window is given back as soon as a frame arrives.
        this.#send(ws, { type: "exec.credit", executionId: frame.executionId, chars: text.length });
        return;
      }
      case "exec.finished": {
        const p = this.#pending.get(frame.executionId);
        if (!p) return;
        this.#pending.delete(frame.executionId);
        if (frame.seq !== p.nextSeq) this.violations.push(`exec.finished seq ${frame.seq}, expected ${p.nextSeq}`);
        const { stdout, stderr, sentAt, acceptedAt } = p;
        const files = p.files
          .filter((f) => f.complete)
          .map(({ path, encoding, content }) => ({ path, encoding, content }));
        return p.resolve({
          executionId: frame.executionId,
          outcome: { ...frame.outcome, files },
          acceptedAt,
          stdout,
          stderr,
          sentAt,
          receivedAt,
        });
      }
      case "error":
        return void this.violations.push(`error frame: ${frame.error.code}: ${frame.error.message}`);
    }
  }

  #send(ws: WebSocket, frame: WorkerFrame): void {
    ws.send(JSON.stringify(WorkerFrame.parse(frame)));
  }

  /** Closes the server and any agent connection. */
  async close(): Promise<void> {
    for (const client of this.#server.clients) client.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
