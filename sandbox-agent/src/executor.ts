import { type AgentFrame, type ExecStart, errorOutcome } from "@edgeswarm/shared";
import type { ImageMap, SandboxRuntime } from "./runtime/runtime.ts";

type Send = (frame: AgentFrame) => void;

/**
 * Runs the executions leased to this agent, at most `capacity` at once, and
 * reports each one's output (seq 0, 1, ...) and outcome through `send`.
 * Refuses, rather than queues, what it has no room for.
 */
export class Executor {
  readonly #running = new Map<string, AbortController>();
  readonly #runtime: SandboxRuntime;
  readonly #images: ImageMap;
  readonly #capacity: number;
  #draining = false;
  #idle: (() => void) | undefined;
  /** Called whenever inFlight changes, so the Worker's view of the load stays current. */
  onLoadChange: () => void = () => {};

  constructor(options: { runtime: SandboxRuntime; images: ImageMap; capacity: number }) {
    this.#runtime = options.runtime;
    this.#images = options.images;
    this.#capacity = options.capacity;
  }

  get inFlight(): number {
    return this.#running.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  start(frame: ExecStart, send: Send): void {
    const id = frame.executionId;
    const image = this.#images[frame.language];
    const refuse = (code: "agent_busy" | "language_unavailable", message: string) =>
      send({ type: "exec.finished", executionId: id, seq: 0, outcome: errorOutcome(code, message) });
    if (this.#running.has(id)) return; // a duplicate start; the first one reports
    if (!image) return refuse("language_unavailable", `this agent has no image for ${frame.language}`);
    if (this.#draining) return refuse("agent_busy", "the agent is draining");
    if (this.#running.size >= this.#capacity) return refuse("agent_busy", "the agent is at capacity");

    const abort = new AbortController();
    this.#running.set(id, abort);
    let seq = 0;
    const { type: _type, ...spec } = frame;
    void this.#runtime
      .run(
        { ...spec, image },
        (stream, data) => send({ type: "exec.output", executionId: id, seq: seq++, stream, data }),
        abort.signal,
      )
      .then((outcome) => send({ type: "exec.finished", executionId: id, seq: seq++, outcome }))
      .finally(() => {
        this.#running.delete(id);
        this.onLoadChange();
        if (this.#running.size === 0) this.#idle?.();
      });
  }

  cancel(executionId: string): void {
    this.#running.get(executionId)?.abort();
  }

  /** Cancels everything running (its caller is gone: the connection dropped). */
  cancelAll(): void {
    for (const abort of this.#running.values()) abort.abort();
  }

  /** Takes nothing new; resolves when what runs has finished. */
  drain(): Promise<void> {
    this.#draining = true;
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle = resolve;
    });
  }
}
