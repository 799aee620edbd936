import type { EventPump } from "./pump.ts";

/** A caller that takes none of an execution's events for this long is too slow: the execution is cancelled. */
export const CLIENT_STALL_MS = 10_000;
/**
 * How often callers are pinged and stalls looked for. A ping is how a caller
 * that vanished without cancelling (its Worker died) is noticed.
 */
export const CALLER_PING_MS = 2_000;
/** Most waiting callers pinged per tick: 10,000 waiting are each pinged every 100 s, not 5,000 times a second. */
const WAITING_PINGS_PER_TICK = 200;

/** What the watch needs of an execution: its caller's pump, and whether it runs or waits. */
export interface WatchedCall {
  readonly pump: EventPump;
  readonly state: "running" | "waiting" | "other";
}

/**
 * Keeps an eye on the callers of a pool's executions while there are any:
 * pings every running one, and the waiting ones a bounded few in turn; hands
 * over those too slow to read (running, or ended and still holding events).
 */
export class CallerWatch<Call> {
  readonly #calls: () => ReadonlyMap<string, Call>;
  readonly #view: (call: Call) => WatchedCall;
  readonly #onStalled: (call: Call) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #cursor = 0;

  constructor(options: {
    calls: () => ReadonlyMap<string, Call>;
    view: (call: Call) => WatchedCall;
    onStalled: (call: Call) => void;
  }) {
    this.#calls = options.calls;
    this.#view = options.view;
    this.#onStalled = options.onStalled;
  }

  /** Starts watching, if it is not already; it stops by itself once there are no calls. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), CALLER_PING_MS);
  }

  #tick(): void {
    const calls = this.#calls();
    if (calls.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = Date.now();
    const waiting: WatchedCall[] = [];
    for (const call of [...calls.values()]) {
      const watched = this.#view(call);
      if (watched.pump.stalledFor(now) > CLIENT_STALL_MS) this.#onStalled(call);
      else if (watched.state === "running") watched.pump.ping();
      else if (watched.state === "waiting") waiting.push(watched);
    }
    if (waiting.length === 0) return;
    this.#cursor %= waiting.length;
    for (let i = 0; i < Math.min(WAITING_PINGS_PER_TICK, waiting.length); i++) {
      waiting[(this.#cursor + i) % waiting.length]?.pump.ping();
    }
    this.#cursor += WAITING_PINGS_PER_TICK;
  }
}
