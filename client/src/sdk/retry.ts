import { backoffDelay } from "@edgeswarm/shared";
/** How a broken event stream is retried: `attempts` in a row without progress, waits doubling from `baseMs` to `maxMs`. */
export interface RetryOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/**
 * Defaults sized to ride out a Worker restart (wrangler takes seconds to come
 * back on a busy machine): about 45 s of waiting before giving up.
 */
export const DEFAULT_RETRY: RetryOptions = { attempts: 10, baseMs: 250, maxMs: 8_000 };

const MAX_ATTEMPTS = 100;
const MAX_WAIT_MS = 60_000;

/** Validates retry options when they are given, so a typo fails at construction rather than mid-stream. */
export function retryOptions(given: Partial<RetryOptions> | undefined): RetryOptions {
  const r = { ...DEFAULT_RETRY, ...given };
  const check = (name: keyof RetryOptions, min: number, max: number) => {
    const v = r[name];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new TypeError(`Edgeswarm: retry.${name} must be a whole number from ${min} to ${max}, got ${v}`);
    }
  };
  check("attempts", 0, MAX_ATTEMPTS);
  check("baseMs", 0, MAX_WAIT_MS);
  check("maxMs", r.baseMs, MAX_WAIT_MS);
  return r;
}

/** The wait before retry number `attempt` (1-based): exponential, capped, with up to 25% jitter. */
export function backoffMs(attempt: number, r: RetryOptions): number {
  return backoffDelay(attempt - 1, { baseMs: r.baseMs, maxMs: r.maxMs, jitter: 0.25 });
}

/** Sleeps `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
