import { z } from "zod";

/** The windows `GET /v1/stats?window=` takes, in minutes. */
export const STATS_WINDOWS = { "15m": 15, "1h": 60, "24h": 1_440 } as const;
export const StatsWindow = z.enum(["15m", "1h", "24h"]);
export type StatsWindow = z.infer<typeof StatsWindow>;

const Count = z.number().int().min(0);
const Ms = z.number().min(0);
const Tokens = z.object({ input: Count, output: Count });

/** One point of the per-minute series (a step of `stepMinutes`), for charts. */
export const StatsPoint = z.object({
  /** The step's start. */
  at: z.string(),
  executions: z.record(z.string(), Count),
  runs: z.record(z.string(), Count),
  executionMs: z.object({ p50: Ms, p95: Ms, p99: Ms }),
  runMs: z.object({ p50: Ms, p95: Ms, p99: Ms }),
});
export type StatsPoint = z.infer<typeof StatsPoint>;

/**
 * `GET /v1/stats`: the calling key's tenant's executions (those that ran to
 * an outcome, direct and in runs), runs (ended), tokens (of ended runs) and
 * agents, over the window. Percentiles are estimated from per-minute
 * histograms, to within a bucket.
 */
export const TenantStats = z.object({
  window: StatsWindow,
  from: z.string(),
  to: z.string(),
  executions: z.object({
    total: Count,
    byStatus: z.record(z.string(), Count),
    durationMs: z.object({ p50: Ms, p95: Ms, p99: Ms }),
  }),
  runs: z.object({
    total: Count,
    byStatus: z.record(z.string(), Count),
    durationMs: z.object({ p50: Ms, p95: Ms, p99: Ms }),
    iterations: z.object({ p50: z.number().min(0), p95: z.number().min(0) }),
  }),
  tokens: z.object({ byRole: z.record(z.string(), Tokens), byModel: z.record(z.string(), Tokens) }),
  /** Per agent: executions, those that ended `error` (a sandbox or agent failure), and their durations. */
  agents: z.array(
    z.object({ id: z.string(), executions: Count, errors: Count, durationMs: z.object({ p50: Ms, p99: Ms }) }),
  ),
  stepMinutes: z.number().int().min(1),
  series: z.array(StatsPoint),
});
export type TenantStats = z.infer<typeof TenantStats>;
