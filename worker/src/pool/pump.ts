import type { ExecutionSink, PoolEvent } from "./rpc.ts";

/**
 * Carries one execution's events to its caller's sink, in order: one batch in
 * flight at a time, everything that arrives meanwhile goes in the next. Each
 * event has a cost (the characters of the agent's frame that brought it); the
 * pump holds the cost of what the caller has not taken yet (`buffered`) and
 * reports each delivered batch's (`onDelivered`), which the pool gives back to
 * the agent as window. A failed delivery means the caller is gone, and is
 * reported once.
 */
export class EventPump {
  readonly #sink: ExecutionSink;
  readonly #onGone: (err: unknown) => void;
  #queue: { event: PoolEvent; cost: number }[] = [];
  #buffered = 0;
  #sending = false;
  #sendingSince = 0;
  #gone = false;
  #idle: (() => void)[] = [];
  /** Told the cost of each batch the caller took. */
  onDelivered: (cost: number) => void = () => {};

  constructor(sink: ExecutionSink, onGone: (err: unknown) => void) {
    this.#sink = sink;
    this.#onGone = onGone;
  }

  /** The cost of what was pushed and not yet taken by the caller. */
  get buffered(): number {
    return this.#buffered;
  }

  /** How long the batch in flight has waited for the caller (ms); 0 when none is in flight. */
  stalledFor(now = Date.now()): number {
    return this.#sending ? now - this.#sendingSince : 0;
  }

  get gone(): boolean {
    return this.#gone;
  }

  push(event: PoolEvent, cost = 0): void {
    if (this.#gone) return;
    this.#queue.push({ event, cost });
    this.#buffered += cost;
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
    this.#send(
      batch.map((b) => b.event),
      batch.reduce((n, b) => n + b.cost, 0),
    );
  }

  #send(batch: PoolEvent[], cost = 0): void {
    this.#sending = true;
    this.#sendingSince = Date.now();
    this.#sink.deliver(batch).then(
      () => {
        this.#sending = false;
        if (this.#gone) return;
        this.#buffered -= cost;
        if (cost > 0) this.onDelivered(cost);
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
