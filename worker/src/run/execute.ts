import { backoffDelay, QUEUE_TIMEOUT_MS, type ToolCallRecord, type WorkspaceFile } from "@edgeswarm/shared";
import { type Config, loadConfig } from "../config.ts";
import { checkInput, RunCodeInput } from "../roles/coder.ts";
import { type ExecutionAttempt, type ExecutionPlace, type ExecutionWatch, executeCall } from "../roles/executor.ts";
import type { RunContext } from "./driver.ts";
import { LiveOutput } from "./live-output.ts";
import type { ExecutionRetry, RunState } from "./state.ts";
import { workspaceProblem } from "./workspace.ts";

/**
 * What the run does with the coder's run_code calls: checks them, runs a
 * reply's calls at once, and appends what became of each. Everything goes
 * through the log (RunContext.append), under keys made from the action's.
 */

/** However short its queue wait, a run tries this long to reach a failing pool again. */
const POOL_RETRY_MIN_MS = 10_000;

/** Runs an effect that cancel and the deadline can abort; undefined when aborted (the Driver's). */
export type Inflight = <T>(effect: (signal: AbortSignal) => Promise<T>) => Promise<T | undefined>;

/** The call's input if valid; otherwise the call is rejected (an iteration) and null returned. */
export function validInput(ctx: RunContext, step: number, call: ToolCallRecord, key: string): unknown {
  const problem = checkInput(call);
  if (!problem) return call.input;
  rejectCall(ctx, step, call, problem, key);
  return null;
}

export function rejectCall(ctx: RunContext, step: number, call: ToolCallRecord, message: string, key: string): void {
  ctx.append("tool.rejected", "loop", { step, toolCallId: call.id, name: call.name, message }, key);
}

/**
 * Runs a reply's run_code calls at once, each in its own sandbox and each
 * with the workspace as it was before any of them. Their results are
 * recorded in the order of the calls, so where two wrote the same path the
 * later call's file is kept. No more run at once than the tenant's
 * concurrentExecutions: more would only wait in the pool's queue, where a
 * long first batch could time them out; the rest stay pending and run next.
 */
export async function executeCalls(
  ctx: RunContext,
  inflight: Inflight,
  step: number,
  calls: ToolCallRecord[],
  s: RunState,
  key: string,
): Promise<void> {
  const created = s.created;
  if (!created) return;
  const workspace = ctx.workspace.all();
  const runs: { call: ToolCallRecord; run: RunCodeInput; key: string }[] = [];
  for (const call of calls) {
    const callKey = `${key}:${call.id}`;
    const input = validInput(ctx, step, call, callKey);
    if (!input) continue;
    const run = RunCodeInput.parse(input);
    const unfit = workspaceProblem(workspace, run);
    if (unfit) rejectCall(ctx, step, call, unfit, callKey);
    else runs.push({ call, run, key: callKey });
  }
  if (runs.length === 0) return;
  let config: Config;
  try {
    config = await loadConfig(ctx.env);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.append("run.finished", "executor", { status: "failed", reason: "internal_error", message }, key);
    return;
  }
  const limits = config.tenantLimits(created.tenant);
  const place: ExecutionPlace = {
    pool: created.pool,
    tenant: {
      id: created.tenant,
      concurrentExecutions: limits.concurrentExecutions,
      queuedExecutions: limits.queuedExecutions,
    },
    limits: created.limits,
    queueTimeoutMs: created.queueTimeoutMs ?? QUEUE_TIMEOUT_MS.default,
    queueMax: config.queueMax,
  };
  const now = runs.slice(0, limits.concurrentExecutions);
  const attempts = await inflight((signal) =>
    Promise.all(now.map((r) => executeOne(ctx, r.call, r.run, workspace, place, signal, r.key))),
  );
  if (!attempts) return; // aborted: the run was cancelled or timed out
  attempts.forEach((attempt, i) => {
    const r = now[i];
    if (r) record(ctx, step, r.call, r.run, attempt, s, r.key);
  });
}

/** One call in its sandbox, its start and output appended to the log as they come. */
function executeOne(
  ctx: RunContext,
  call: ToolCallRecord,
  run: RunCodeInput,
  workspace: WorkspaceFile[],
  place: ExecutionPlace,
  signal: AbortSignal,
  key: string,
): Promise<ExecutionAttempt> {
  let executionId = "";
  let pieces = 0;
  const live = new LiveOutput((piece) => {
    ctx.append(
      "execution.output",
      "executor",
      { executionId, toolCallId: call.id, ...piece },
      `${key}:out:${pieces++}`,
    );
  });
  const watch: ExecutionWatch = {
    started: (id, agentId) => {
      executionId = id;
      ctx.append(
        "execution.started",
        "executor",
        { toolCallId: call.id, executionId: id, agentId },
        `${key}:started:${agentId}`,
      );
    },
    output: (stream, data) => live.push(stream, data),
  };
  return ctx.tracer
    .tool(
      call.id,
      (trace) =>
        executeCall(ctx.env, { ...place, trace }, run, workspace, signal, (work) => ctx.waitUntil(work), watch),
      (a) =>
        a.kind === "done"
          ? {
              executionId: a.summary.id,
              status: a.summary.status,
              ...(a.summary.error ? { error: a.summary.error.code } : {}),
              output: a.stdout,
            }
          : { error: a.error.code },
    )
    .finally(() => live.close());
}

/** Appends what became of one call: its result, a retry, or the end of the run. */
function record(
  ctx: RunContext,
  step: number,
  call: ToolCallRecord,
  run: RunCodeInput,
  attempt: ExecutionAttempt,
  s: RunState,
  key: string,
): void {
  const queueWaitMs = s.created?.queueTimeoutMs ?? QUEUE_TIMEOUT_MS.default;
  const retry = s.executionRetries.get(call.id);
  if (attempt.kind === "unavailable" && attempt.error.code === "payload_too_large") {
    // Nothing can run it as it is: the coder is told, as for any unusable call.
    return rejectCall(
      ctx,
      step,
      call,
      `this call cannot run: ${attempt.error.message}. Remove files or send less.`,
      key,
    );
  }
  if (attempt.kind !== "done") return noSandbox(ctx, call, attempt, queueWaitMs, retry, key);

  const { summary, stdout, stderr } = attempt;
  if (summary.error?.code === "agent_lost" && (retry?.agentLost ?? 0) < 1) {
    // Lost with its agent: once more, on another agent, not counted as an iteration.
    const n = (retry?.attempt ?? 0) + 1;
    ctx.append(
      "execution.retry",
      "executor",
      { toolCallId: call.id, attempt: n, reason: "agent_lost", delayMs: 0, message: summary.error.message },
      key,
    );
    return;
  }
  const { stored, refused } = ctx.workspace.put(summary.files);
  const error =
    refused.length > 0
      ? { code: "files_truncated", message: `not kept: ${refused.map((r) => `${r.path} (${r.why})`).join(", ")}` }
      : summary.error
        ? { code: summary.error.code, message: summary.error.message }
        : null;
  ctx.append(
    "execution.finished",
    "executor",
    {
      step,
      iteration: ctx.state().iterations + 1,
      toolCallId: call.id,
      executionId: summary.id,
      agentId: summary.agentId,
      language: run.language,
      status: summary.status,
      exitCode: summary.exitCode,
      signal: summary.signal,
      durationMs: summary.durationMs,
      stdout,
      stderr,
      truncated: summary.truncated,
      files: stored,
      error,
    },
    key,
  );
}

/**
 * No sandbox took the call. It already waited its turn in the pool's queue,
 * so a slot that never came ends the run. A refusal that came at once (the
 * queue full, the tenant's waiting quota) or a failed pool is tried again
 * within the same wait.
 */
function noSandbox(
  ctx: RunContext,
  call: ToolCallRecord,
  attempt: Exclude<ExecutionAttempt, { kind: "done" }>,
  queueWaitMs: number,
  retry: ExecutionRetry | undefined,
  key: string,
): void {
  const { code, message: why, details } = attempt.error;
  const failed = attempt.kind === "pool_failed";
  const refusedAtOnce =
    code === "queue_full" ||
    (code === "quota_exceeded" && !Array.isArray(details) && details?.quota === "queuedExecutions");
  const budget = failed ? Math.max(queueWaitMs, POOL_RETRY_MIN_MS) : queueWaitMs;
  const waited = Date.now() - (retry?.firstAt ?? Date.now());
  if ((!failed && !refusedAtOnce) || waited >= budget) {
    const message = `no sandbox was available (${code}: ${why})`;
    ctx.append("run.finished", "executor", { status: "failed", reason: "no_sandbox_available", message }, key);
    return;
  }
  const n = (retry?.attempt ?? 0) + 1;
  // A failed pool is tried again at once, then after a growing pause, as a full one is.
  const delayMs = failed && n === 1 ? 0 : backoffDelay(n, { baseMs: 250, maxMs: 5_000, jitter: 0 });
  const reason = failed ? "pool_unavailable" : "no_sandbox";
  ctx.append("execution.retry", "executor", { toolCallId: call.id, attempt: n, reason, delayMs, message: why }, key);
}
