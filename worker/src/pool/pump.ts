import type { ExecutionSink, PoolEvent } from "./rpc.ts";

/** Rough bytes an event holds in memory, for the buffer's accounting. */
export function eventBytes(event: PoolEvent): number {
  switch (event.type) {
    case "stdout":
    case "stderr":
    case "file":
      return 64 + event.data.length;
    default:
      return 64;
  }
}

/**
 * Carries one execution's events to its caller's sink, in order: one batch in
 * flight at a time, everything that arrives meanwhile goes in the next. It
 * holds what the caller has not taken yet (`buffered`); a failed delivery
 * means the caller is gone, and is reported once.
 */
export class EventPump {
  readonly #sink: ExecutionSink;
  readonly #onGone: (err: unknown) => void;
  #queue: PoolEvent[] = [];
  #buffered = 0;
  #sending = false;
  #gone = false;
  #idle: (() => void)[] = [];
  /** Told how many bytes each delivered batch held, once the caller took it. */
  onDelivered: (bytes: number) => void = () => {};

  constructor(sink: ExecutionSink, onGone: (err: unknown) => void) {
    this.#sink = sink;
    this.#onGone = onGone;
  }

  /** Bytes pushed and not yet taken by the caller. */
  get buffered(): number {
    return this.#buffered;
  }

  get gone(): boolean {
    return this.#gone;
  }

  push(event: PoolEvent): void {
    if (this.#gone) return;
    this.#queue.push(event);
    this.#buffered += eventBytes(event);
    this.#flush();
  }

  /** A keep-alive: an empty batch, unless one is in flight anyway. It is how a vanished caller is noticed. */
  ping(): void {
    if (this.#gone || this.#sending) return;
    this.#send([]);
  }

  /** Resolves once everything pushed so far was taken, or the caller is gone. */
  drained(): Promise<void> {
    if (this.#gone || (!this.#sending && this.#queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Drops what is held and delivers nothing more (the execution ended without its caller). */
  close(): void {
    this.#gone = true;
    this.#queue = [];
    this.#buffered = 0;
    this.#wake();
  }

  #flush(): void {
    if (this.#sending || this.#gone) return;
    if (this.#queue.length === 0) return this.#wake();
    const batch = this.#queue;
    this.#queue = [];
    this.#send(batch);
  }

  #send(batch: PoolEvent[]): void {
    this.#sending = true;
    const bytes = batch.reduce((n, e) => n + eventBytes(e), 0);
    this.#sink.deliver(batch).then(
      () => {
        this.#sending = false;
        if (this.#gone) return;
        this.#buffered -= bytes;
        this.onDelivered(bytes);
        this.#flush();
      },
      (err: unknown) => {
        this.#sending = false;
        if (this.#gone) return;
        this.close();
        this.#onGone(err);
      },
    );
  }

  #wake(): void {
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
