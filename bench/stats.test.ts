import { describe, expect, it } from "vitest";
import { mean, percentile, summarize } from "./stats.ts";

describe("percentile", () => {
  it("interpolates between the nearest ranks", () => {
    const samples = [1, 2, 3, 4, 5];
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile(samples, 50)).toBe(3);
    expect(percentile(samples, 95)).toBeCloseTo(4.8);
    expect(percentile(samples, 100)).toBe(5);
    expect(percentile([10, 20], 50)).toBe(15);
  });

  it("does not depend on the order of the samples, nor reorder them", () => {
    const samples = [5, 1, 4, 2, 3];
    expect(percentile(samples, 50)).toBe(3);
    expect(samples).toEqual([5, 1, 4, 2, 3]);
  });

  it("gives the only sample of one", () => {
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 95)).toBe(7);
  });

  it("refuses no samples and percentiles out of range", () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe("summarize", () => {
  it("gives n, p50, p95, p99, mean, min and max", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 down to 1
    const summary = summarize(samples);
    expect(summary).toMatchObject({ n: 100, p50: 50.5, mean: 50.5, min: 1, max: 100 });
    expect(summary.p95).toBeCloseTo(95.05);
    expect(summary.p99).toBeCloseTo(99.01);
  });

  it("refuses no samples", () => {
    expect(() => mean([])).toThrow(RangeError);
    expect(() => summarize([])).toThrow(RangeError);
  });
});
