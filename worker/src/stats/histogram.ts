/**
 * A fixed-bucket histogram of durations in milliseconds, roughly logarithmic
 * (1-2-5 steps from 1 ms to 1 h, then one open bucket): small enough to keep
 * one per minute per series, mergeable by adding counts, and good for
 * percentiles to within a bucket (linear inside it).
 */
export const BOUNDS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, 120_000, 300_000, 600_000, 1_800_000,
  3_600_000,
] as const;

/** Counts per bucket: BOUNDS_MS.length + 1 of them, the last for what is over an hour. */
export type Counts = number[];

export function emptyCounts(): Counts {
  return new Array<number>(BOUNDS_MS.length + 1).fill(0);
}

export function bucketOf(ms: number): number {
  const i = BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? BOUNDS_MS.length : i;
}

/** Counts one duration. */
export function record(counts: Counts, ms: number): void {
  const i = bucketOf(ms);
  counts[i] = (counts[i] ?? 0) + 1;
}

/** Adds `b` into `a` (both the same length). */
export function merge(a: Counts, b: readonly number[]): void {
  for (let i = 0; i < a.length; i++) a[i] = (a[i] ?? 0) + (b[i] ?? 0);
}

/**
 * The q-quantile (0 < q ≤ 1) estimated from the counts, interpolating inside
 * its bucket; 0 when there are none. The open bucket answers its lower bound.
 */
export function quantile(counts: readonly number[], q: number): number {
  const total = counts.reduce((n, c) => n + c, 0);
  if (total === 0) return 0;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const low = i === 0 ? 0 : (BOUNDS_MS[i - 1] ?? 0);
      const high = BOUNDS_MS[i];
      if (high === undefined) return low;
      return Math.round(low + ((high - low) * (rank - seen)) / c);
    }
    seen += c;
  }
  return BOUNDS_MS.at(-1) ?? 0;
}
