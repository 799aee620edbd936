import { describe, expect, it } from "vitest";
import { BOUNDS_MS, bucketOf, emptyCounts, merge, quantile, record } from "./histogram.ts";

describe("duration histograms", () => {
  it("put each duration in the first bucket whose bound holds it", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(1.5)).toBe(1);
    expect(bucketOf(100)).toBe(BOUNDS_MS.indexOf(100));
    expect(bucketOf(101)).toBe(BOUNDS_MS.indexOf(200));
    expect(bucketOf(10 * 3_600_000)).toBe(BOUNDS_MS.length);
  });

  it("estimate percentiles within the bucket that holds them, in order", () => {
    const counts = emptyCounts();
    for (let i = 0; i < 90; i++) record(counts, 150); // 100..200
    for (let i = 0; i < 9; i++) record(counts, 1_500); // 1000..2000
    record(counts, 9_000); // 5000..10000
    const [p50, p95, p99] = [0.5, 0.95, 0.99].map((q) => quantile(counts, q));
    expect(p50).toBeGreaterThan(100);
    expect(p50).toBeLessThanOrEqual(200);
    expect(p95).toBeGreaterThan(1_000);
    expect(p95).toBeLessThanOrEqual(2_000);
    expect(p99).toBeLessThanOrEqual(2_000);
    expect(quantile(counts, 1)).toBeGreaterThan(5_000);
    expect(quantile(emptyCounts(), 0.5)).toBe(0);
  });

  it("merge by adding counts", () => {
    const a = emptyCounts();
    const b = emptyCounts();
    a[2] = 3;
    b[2] = 4;
    b[5] = 1;
    merge(a, b);
    expect(a[2]).toBe(7);
    expect(a[5]).toBe(1);
    expect(a).toHaveLength(BOUNDS_MS.length + 1);
  });
});
