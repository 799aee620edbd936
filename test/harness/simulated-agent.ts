import {
  type AgentFrame,
  type AgentSandbox,
  type ExecStart,
  PROTOCOL_VERSION,
  parseFrame,
  type WireOutcome,
  WorkerFrame,
} from "@edgeswarm/shared";
import WebSocket from "ws";
import { within } from "../../scripts/lib/wait.ts";

/** What a simulated agent does with an exec.start: the frames it answers with, or hold it for the test. */
export type Answer = (start: ExecStart) => AgentFrame[] | "hold";

export const SUCCEEDED: WireOutcome = {
  status: "succeeded",
  exitCode: 0,
  signal: null,
  durationMs: 1,
  truncated: { stdout: false, stderr: false },
};

/** Acknowledges, prints `ok`, and succeeds, at once: an agent whose sandboxes take no time. */
export const instant = (start: ExecStart): AgentFrame[] => [
  { type: "exec.accepted", executionId: start.executionId },
  { type: "exec.output", executionId: start.executionId, seq: 0, stream: "stdout", data: "ok\n" },
  { type: "exec.finished", executionId: start.executionId, seq: 1, outcome: SUCCEEDED },
];

/** Holds every exec.start for the test to answer (or never to), without acknowledging it. */
export const hold: Answer = () => "hold";

/** Acknowledges each exec.start, then holds it for the test to finish (see `finish`). */
export const acceptOnly = (start: ExecStart): AgentFrame[] => [
  { type: "exec.accepted", executionId: start.executionId },
];

/** The frames that end an accepted execution: `ok` on stdout, and success. */
export const finish = (start: ExecStart): AgentFrame[] => instant(start).slice(1);

/**
 * A sandbox agent in a test's hands: it speaks the wire protocol like a real
 * one (hello, heartbeats, acknowledgements), but runs no sandbox. Each
 * exec.start is answered by `answer`, or held until the test answers it; and
 * it sends whatever else a test tells it to, malformed or hostile. For
 * testing the Worker's pool without Docker, for loading it with many agents at
 * once, and for playing a hostile agent.
 */
export class SimulatedAgent {
  readonly ws: WebSocket;
  readonly id: string;
  /** Every exec.start received, in order, and every exec.cancel. */
  readonly starts: ExecStart[] = [];
  readonly cancels: string[] = [];
  /** exec.credit given, per execution. */
  readonly credits = new Map<string, number>();
  readonly closed: Promise<{ code: number; reason: string }>;
  answer: Answer;
  /** Frames from the Worker not yet taken by `next`. */
  readonly #frames: WorkerFrame[] = [];
  readonly #waiters = new Set<() => void>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  private constructor(ws: WebSocket, id: string, answer: Answer) {
    this.ws = ws;
    this.id = id;
    this.answer = answer;
    ws.on("message", (data) => this.#onFrame(data.toString()));
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        clearInterval(this.#heartbeat);
        resolve({ code, reason: reason.toString() });
        for (const wake of this.#waiters) wake();
      }),
    );
  }

  /** Opens a connection and says nothing yet: for tests of what an agent says first. */
  static async open(url: string, token: string, id = "unnamed"): Promise<SimulatedAgent> {
    const target = url.startsWith("ws") ? url : `${url.replace(/^http/, "ws")}/v1/agents/connect`;
    const ws = new WebSocket(target, { headers: { Authorization: `Bearer ${token}` }, maxPayload: 64 * 1024 * 1024 });
    const agent = new SimulatedAgent(ws, id, hold);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`connect answered ${res.statusCode}`)));
    });
    return agent;
  }

  /**
   * Connects to `url` (a Worker's base URL, or a full ws:// URL of a test
   * Worker's connect route), says hello as `id`, and resolves once welcomed.
   */
  static async connect(options: {
    url: string;
    token: string;
    id: string;
    capacity?: number;
    images?: Record<string, string>;
    answer?: Answer;
    /** Heartbeats every this many ms (default 2000); 0 for none. */
    heartbeatMs?: number;
  }): Promise<SimulatedAgent> {
    const agent = await SimulatedAgent.open(options.url, options.token, options.id);
    agent.answer = options.answer ?? instant;
    await agent.hello({ capacity: options.capacity, images: options.images });
    const every = options.heartbeatMs ?? 2_000;
    if (every > 0) {
      agent.#heartbeat = setInterval(
        () => agent.send({ type: "agent.heartbeat", inFlight: 0, draining: false }),
        every,
      );
    }
    return agent;
  }

  /** Says hello (as this agent's id, unless told another); resolves with the Worker's welcome. */
  async hello(
    options: {
      agentId?: string;
      capacity?: number | undefined;
      images?: Record<string, string> | undefined;
      sandboxes?: AgentSandbox[];
    } = {},
  ) {
    this.send({
      type: "agent.hello",
      protocolVersion: PROTOCOL_VERSION,
      agentId: options.agentId ?? this.id,
      version: "0.0.0-simulated",
      capacity: options.capacity ?? 4,
      images: (options.images ?? { python: "simulated" }) as Record<string, string>,
      labels: {},
      inFlight: 0,
      ...(options.sandboxes ? { sandboxes: options.sandboxes } : {}),
    } as AgentFrame);
    return this.next((f) => f.type === "worker.welcome");
  }

  /**
   * The next frame from the Worker that `match` accepts (frames before it that
   * it does not are skipped); rejects when the connection closes first, or after
   * `timeoutMs`.
   */
  async next(match: (frame: WorkerFrame) => boolean = () => true, timeoutMs = 10_000): Promise<WorkerFrame> {
    const found = () => {
      for (let frame = this.#frames.shift(); frame; frame = this.#frames.shift()) if (match(frame)) return frame;
      return undefined;
    };
    const { promise, resolve, reject } = Promise.withResolvers<WorkerFrame>();
    const wake = () => {
      const frame = found();
      if (frame) resolve(frame);
      else if (this.ws.readyState === WebSocket.CLOSED) reject(new Error("the Worker closed the connection"));
    };
    this.#waiters.add(wake);
    wake();
    try {
      return await within(promise, timeoutMs, "a frame from the Worker");
    } finally {
      this.#waiters.delete(wake);
    }
  }

  /** Sends a frame (an object, as JSON) or any text at all. */
  send(frame: AgentFrame | string | Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Answers a held exec.start with `frames`. */
  reply(frames: AgentFrame[]): void {
    for (const frame of frames) this.send(frame);
  }

  /** Resolves with the `n`-th exec.start (1-based) once it has arrived. */
  start(n: number, timeoutMs = 10_000): Promise<ExecStart> {
    return this.#until(() => this.starts[n - 1], timeoutMs, `exec.start number ${n} at agent ${this.id}`);
  }

  /** Resolves once `executionId` was cancelled. */
  cancelled(executionId: string, timeoutMs = 15_000): Promise<void> {
    return this.#until(
      () => (this.cancels.includes(executionId) ? true : undefined),
      timeoutMs,
      `exec.cancel of ${executionId} at agent ${this.id}`,
    ).then(() => {});
  }

  #onFrame(text: string): void {
    const parsed = parseFrame(WorkerFrame, text);
    if (!parsed.ok) throw new Error(`the Worker sent a malformed frame: ${parsed.message}`);
    const frame = parsed.frame;
    this.#frames.push(frame);
    if (this.#frames.length > 1_000) this.#frames.shift(); // frames nobody asks for are not kept forever
    if (frame.type === "exec.start") {
      this.starts.push(frame);
      const frames = this.answer(frame);
      if (frames !== "hold") this.reply(frames);
    } else if (frame.type === "exec.cancel") this.cancels.push(frame.executionId);
    else if (frame.type === "exec.credit") {
      this.credits.set(frame.executionId, (this.credits.get(frame.executionId) ?? 0) + frame.chars);
    }
    for (const wake of this.#waiters) wake();
  }

  async #until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = check();
    if (now !== undefined) return now;
    const { promise, resolve } = Promise.withResolvers<T>();
    const wake = () => {
      const value = check();
      if (value !== undefined) resolve(value);
    };
    this.#waiters.add(wake);
    try {
      return await within(promise, timeoutMs, what);
    } finally {
      this.#waiters.delete(wake);
    }
  }

  close(): void {
    clearInterval(this.#heartbeat);
    this.ws.terminate();
  }
}
