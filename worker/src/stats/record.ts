import type { ExecutionSummary } from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { type RunStat, STATS_KEY_CHARS } from "./stats-do.ts";

/**
 * Counts an execution that ran to an outcome in its tenant's statistics, off
 * the answer's path: a failure to count is logged, never the caller's.
 */
export function recordExecution(
  env: Env,
  tenant: string,
  summary: ExecutionSummary,
  waitUntil: (work: Promise<unknown>) => void,
): void {
  const stat = {
    at: Date.now(),
    status: summary.status,
    durationMs: summary.durationMs,
    agentId: summary.agentId?.slice(0, STATS_KEY_CHARS) ?? null,
  };
  waitUntil(
    env.STATS.getByName(tenant)
      .recordExecution(stat)
      .catch((err: unknown) => console.error("stats: an execution was not counted", err)),
  );
}

/** Counts an ended run, with its tokens by role and model. */
export function recordRun(env: Env, tenant: string, stat: RunStat, waitUntil: (work: Promise<unknown>) => void): void {
  waitUntil(
    env.STATS.getByName(tenant)
      .recordRun(stat)
      .catch((err: unknown) => console.error("stats: a run was not counted", err)),
  );
}
