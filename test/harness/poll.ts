/**
 * Asks `attempt` again and again until it answers a value, pausing
 * `intervalMs` between asks; rejects after `timeoutMs` saying what it waited
 * for. For states the API shows but sends no event for (a quota that frees
 * as a run's end reaches its tenant's list). Bounded in time and count.
 */
export async function pollUntil<T>(
  attempt: () => Promise<T | undefined>,
  options: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<T> {
  const interval = options.intervalMs ?? 100;
  const deadline = performance.now() + options.timeoutMs;
  for (let tries = 0; tries < Math.ceil(options.timeoutMs / interval) + 1; tries++) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (performance.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
}
