import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, MAX_DELAY_MS, parseRetryAfter, verdict } from "./policy.ts";

const answered = (status: number, retryAfterMs: number | null = null) =>
  ({ kind: "answered", status, retryAfterMs }) as const;

describe("webhook retry policy", () => {
  it("delivers on 2xx and gives up at once on a refusal (3xx, 4xx other than 408 and 429)", () => {
    for (const status of [200, 201, 204, 299])
      expect(verdict(answered(status), 1, 1000)).toEqual({ kind: "delivered" });
    for (const status of [301, 302, 400, 401, 403, 404, 410, 422]) {
      expect(verdict(answered(status), 1, 1000), String(status)).toEqual({ kind: "failed", why: "refused" });
    }
  });

  it("retries network errors, 408, 429 and 5xx with doubling, jittered delays", () => {
    for (const result of [
      answered(408),
      answered(429),
      answered(500),
      answered(503),
      { kind: "network", message: "x" },
    ] as const) {
      expect(verdict(result, 1, 1000, 0.999).kind).toBe("retry");
    }
    const delays = [1, 2, 3, 4].map((n) => verdict(answered(500), n, 1000, 0.999));
    expect(delays.map((v) => (v.kind === "retry" ? Math.round(v.delayMs / 1000) : -1))).toEqual([1, 2, 4, 8]);
    expect(verdict(answered(500), 3, 1000, 0)).toEqual({ kind: "retry", delayMs: 2000 });
  });

  it("honours a longer Retry-After, up to the cap, and stops after the last attempt", () => {
    expect(verdict(answered(429, 30_000), 1, 1000, 0)).toEqual({ kind: "retry", delayMs: 30_000 });
    expect(verdict(answered(429, 10 * MAX_DELAY_MS), 1, 1000, 0)).toEqual({ kind: "retry", delayMs: MAX_DELAY_MS });
    expect(verdict(answered(500), MAX_ATTEMPTS - 1, 1000).kind).toBe("retry");
    expect(verdict(answered(500), MAX_ATTEMPTS, 1000)).toEqual({ kind: "failed", why: "attempts" });
  });

  it("reads Retry-After in seconds or as a date", () => {
    expect(parseRetryAfter("7", 0)).toBe(7000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter("soon", 0)).toBeNull();
    expect(parseRetryAfter(null, 0)).toBeNull();
  });
});
