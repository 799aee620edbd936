import { backoffDelay } from "@edgeswarm/shared";
/**
 * When a delivery is retried. Pure, so it is tested without workerd.
 *
 * - A 2xx answer delivers it.
 * - A network error, a timeout, 408, 429 or any 5xx is retried, with
 *   exponential backoff from the base delay (doubling, 50–100 % jitter;
 *   a longer `Retry-After` wins, up to MAX_DELAY_MS).
 * - Any other answer (3xx, since redirects are not followed, and 4xx) is final:
 *   the receiver saw the request and refused it, and the same bytes would be
 *   refused again.
 * - After MAX_ATTEMPTS attempts it is failed.
 */

/** Attempts per delivery, the first included. */
export const MAX_ATTEMPTS = 10;
/** No retry waits longer than this, whatever the base or Retry-After says. */
export const MAX_DELAY_MS = 3_600_000;
/** How long one attempt may take, connecting and answering included. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

/** How an attempt went. */
export type AttemptResult =
  | { kind: "answered"; status: number; retryAfterMs: number | null }
  | { kind: "network"; message: string };

export type Verdict =
  | { kind: "delivered" }
  | { kind: "retry"; delayMs: number }
  | { kind: "failed"; why: "refused" | "attempts" };

function retryable(result: AttemptResult): boolean {
  if (result.kind === "network") return true;
  return result.status === 408 || result.status === 429 || result.status >= 500;
}

/**
 * What follows attempt number `attempt` (1-based). `random` is in [0, 1),
 * injectable for tests.
 */
export function verdict(result: AttemptResult, attempt: number, baseMs: number, random = Math.random()): Verdict {
  if (result.kind === "answered" && result.status >= 200 && result.status < 300) return { kind: "delivered" };
  if (!retryable(result)) return { kind: "failed", why: "refused" };
  if (attempt >= MAX_ATTEMPTS) return { kind: "failed", why: "attempts" };
  const backoff = backoffDelay(attempt - 1, { baseMs, maxMs: MAX_DELAY_MS, jitter: 0.5, random: () => random });
  const asked = result.kind === "answered" ? (result.retryAfterMs ?? 0) : 0;
  return { kind: "retry", delayMs: Math.round(Math.min(MAX_DELAY_MS, Math.max(backoff, asked))) };
}

/** `Retry-After` in ms: seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
