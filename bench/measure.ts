/** One way of running the workload, timed by the bench. Add new scenarios as more of these. */
export interface Scenario {
  /** A short stable key, used in the JSON and in ratios. */
  name: string;
  /** What the table calls it. */
  title: string;
  /**
   * Runs the workload once and resolves with how long that took, in ms. Throws
   * if the answer is wrong: a fast wrong answer must not count as a sample.
   */
  run(signal: AbortSignal): Promise<number>;
  /**
   * Waits, untimed, for background work the run left behind (such as a sandbox
   * still being removed), so that it does not slow whichever run comes next.
   */
  settle?(signal: AbortSignal): Promise<void>;
  /**
   * A baseline whose tool can fail for reasons of its own (e.g. `OCI runtime
   * exec failed` from runsc under load): a failed run is repeated once, and
   * reported through `onRetry`, instead of stopping the bench.
   */
  retryOnce?: boolean;
}

export interface MeasureOptions {
  /** Timed runs per scenario. */
  n: number;
  /** Untimed runs per scenario first (image cache, JIT, the Durable Object's first wake). */
  warmup: number;
  /** Aborts between runs and cancels the one in flight. */
  signal: AbortSignal;
  /** The bound on any one run, settle included. */
  runTimeoutMs: number;
  onRound?(done: number, total: number): void;
  /** A `retryOnce` scenario's run failed and is being repeated. */
  onRetry?(scenario: Scenario, err: Error): void;
}

/**
 * Runs every scenario once per round, one run at a time, `warmup + n` rounds,
 * rotating which goes first each round, so drift and noise (a busy neighbour,
 * thermal throttling, Docker's own housekeeping) hit every scenario alike.
 * Returns each scenario's timed samples, by name.
 */
export async function measure(scenarios: readonly Scenario[], options: MeasureOptions): Promise<Map<string, number[]>> {
  const samples = new Map(scenarios.map((s) => [s.name, [] as number[]]));
  const rounds = options.warmup + options.n;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < scenarios.length; i++) {
      options.signal.throwIfAborted();
      const scenario = scenarios[(round + i) % scenarios.length] as Scenario;
      const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.runTimeoutMs)]);
      const once = async () => {
        const ms = await scenario.run(signal);
        await scenario.settle?.(signal);
        return ms;
      };
      let ms: number;
      try {
        ms = await once().catch((err: Error) => {
          if (!scenario.retryOnce || signal.aborted) throw err;
          options.onRetry?.(scenario, err);
          return once();
        });
      } catch (err) {
        if (options.signal.aborted) throw options.signal.reason;
        const why = signal.aborted ? `no answer within ${options.runTimeoutMs} ms` : (err as Error).message;
        throw new Error(`${scenario.title} failed in round ${round + 1}: ${why}`, { cause: err });
      }
      if (round >= options.warmup) samples.get(scenario.name)?.push(ms);
    }
    options.onRound?.(round + 1, rounds);
  }
  return samples;
}
