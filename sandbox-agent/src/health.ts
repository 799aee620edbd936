import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { AgentHealth } from "@edgeswarm/shared";

const NS_PER_MS = 1e6;
// The histogram records the whole interval between its timer's firings, so an
// idle loop reads about one resolution; the delay is what exceeds it.
const RESOLUTION_MS = 10;

/**
 * Watches the agent's own event loop and memory. Each `sample()` covers the
 * time since the previous one, so a heartbeat reports the interval it closes.
 */
export class HealthMonitor {
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  #since = performance.now();
  #latest: AgentHealth | undefined;

  constructor() {
    this.#delay.enable();
  }

  /** Closes the current window and starts the next; `warm` is the runtime's ready sandboxes. */
  sample(warm: number): AgentHealth {
    const now = performance.now();
    const memory = process.memoryUsage();
    const h = this.#delay;
    const empty = h.count === 0;
    this.#latest = {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      loopDelayP50Ms: empty ? 0 : delayMs(h.percentile(50)),
      loopDelayP99Ms: empty ? 0 : delayMs(h.percentile(99)),
      loopDelayMaxMs: empty ? 0 : delayMs(h.max),
      windowMs: Math.round(now - this.#since),
      warm,
    };
    h.reset();
    this.#since = now;
    return this.#latest;
  }

  /** The last completed window, if any. */
  get latest(): AgentHealth | undefined {
    return this.#latest;
  }

  stop(): void {
    this.#delay.disable();
  }
}

function delayMs(intervalNs: number): number {
  return Math.max(0, Math.round((intervalNs / NS_PER_MS - RESOLUTION_MS) * 100) / 100);
}
