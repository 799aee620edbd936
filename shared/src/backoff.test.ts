import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.ts";

describe("backoffDelay", () => {
  const at = (random: number, jitter: number) => (attempt: number) =>
    backoffDelay(attempt, { baseMs: 100, maxMs: 1000, jitter, random: () => random });

  it("doubles from baseMs up to maxMs", () => {
    expect([0, 1, 2, 3, 4, 5].map(at(0.999, 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("jitters the share of the delay it is told to", () => {
    expect([at(0, 1)(3), at(0.5, 1)(3)]).toEqual([0, 400]); // full: anywhere below the delay
    expect([at(0, 0.5)(3), at(0.999, 0.5)(3)]).toEqual([400, 799]); // equal: half fixed
    expect(at(0, 0.25)(3)).toBe(600);
  });

  it("stays finite however many attempts", () => {
    expect(backoffDelay(10_000, { baseMs: 100, maxMs: 1000, jitter: 0 })).toBe(1000);
    expect(backoffDelay(-1, { baseMs: 100, maxMs: 1000, jitter: 0 })).toBe(100);
  });
});
