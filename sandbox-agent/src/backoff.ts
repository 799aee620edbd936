import { backoffDelay } from "@edgeswarm/shared";
/**
 * Exponential backoff with full jitter (a random delay in [0, cap)), so many
 * agents that lost the Worker at once do not reconnect in lockstep.
 */
export class Backoff {
  #attempt = 0;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;

  constructor(options: { baseMs?: number; maxMs?: number; random?: () => number } = {}) {
    this.#baseMs = options.baseMs ?? 250;
    this.#maxMs = options.maxMs ?? 15_000;
    this.#random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call doubles the ceiling up to maxMs. */
  next(): number {
    const delay = backoffDelay(this.#attempt, {
      baseMs: this.#baseMs,
      maxMs: this.#maxMs,
      jitter: 1,
      random: this.#random,
    });
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return delay;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
