/**
 * How long to wait before retry number `attempt` + 1 (`attempt` counts from
 * 0): `baseMs · 2^attempt`, capped at `maxMs`, then jittered. `jitter` is the
 * share of the delay that is random: 1 is "full jitter" (anywhere in
 * [0, delay)), so that many clients that failed together do not retry in
 * lockstep; 0.5 keeps half of it fixed; 0 is none. `random` is in [0, 1),
 * injectable for tests.
 *
 * @example
 * backoffDelay(2, { baseMs: 250, maxMs: 15_000, jitter: 1 }); // in [0, 1000)
 */
export function backoffDelay(
  attempt: number,
  options: { baseMs: number; maxMs: number; jitter: number; random?: () => number },
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(Math.max(0, attempt), 40));
  const random = options.jitter > 0 ? (options.random ?? Math.random)() : 1;
  return Math.floor(ceiling * (1 - options.jitter * (1 - random)));
}
