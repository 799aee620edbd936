import { DEFAULT_LIMITS, EVENT_VERSION, type PayloadOf, type RunEvent, type RunEventType } from "@edgeswarm/shared";

/** For unit tests: a run's log written by hand, and the run.created they start from. */

export const T0 = Date.parse("2026-01-01T00:00:00Z");

export type LogItem = { [T in RunEventType]: [T, PayloadOf<T>] }[RunEventType];

/** Events from [type, payload] pairs, 1 ms apart from T0, with seqs from 1. */
export function log(...items: LogItem[]): RunEvent[] {
  return items.map(([type, payload], i) => ({
    seq: i + 1,
    type,
    source: "loop",
    at: new Date(T0 + i).toISOString(),
    v: EVENT_VERSION,
    payload,
  })) as RunEvent[];
}

/** A run without a planner, on pool "p", with `over` on top. */
export function created(over: Partial<PayloadOf<"run.created">> = {}): ["run.created", PayloadOf<"run.created">] {
  return [
    "run.created",
    {
      task: "t",
      tenant: "a",
      planner: null,
      coder: { provider: "anthropic", model: "m", baseUrl: null },
      maxIterations: 2,
      tokenBudget: null,
      timeoutMs: 60_000,
      approval: "never",
      limits: DEFAULT_LIMITS,
      pool: "p",
      metadata: null,
      webhookUrl: null,
      files: [],
      ...over,
    },
  ];
}
