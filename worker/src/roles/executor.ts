import {
  type ExecutionSummary,
  type Limits,
  newExecutionId,
  type TraceCarrier,
  type WorkspaceFile,
} from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import type { EdgeswarmError } from "../errors.ts";
import { executeInPool } from "../pool/client.ts";
import type { TenantRef } from "../pool/rpc.ts";
import type { RunCodeInput } from "./coder.ts";

/** Most characters of each stream kept in the run's log (the model sees less). */
export const LOGGED_OUTPUT_CHARS = 64 * 1024;

export type ExecutionAttempt =
  | { kind: "done"; summary: ExecutionSummary; stdout: string; stderr: string }
  /** No sandbox took it (no slot in time, no agent, no such language, a quota): the run may wait or give up. */
  | { kind: "unavailable"; error: EdgeswarmError }
  /** The pool failed or restarted: the run tries again at once. */
  | { kind: "pool_failed"; error: EdgeswarmError };

function keep(text: string): string {
  if (text.length <= LOGGED_OUTPUT_CHARS) return text;
  const half = LOGGED_OUTPUT_CHARS / 2;
  return `${text.slice(0, half)}\n…(${text.length - LOGGED_OUTPUT_CHARS} characters cut)…\n${text.slice(-half)}`;
}

/** Where and as whom a run's executions run. */
export interface ExecutionPlace {
  pool: string;
  tenant: TenantRef;
  limits: Limits;
  queueTimeoutMs: number;
  queueMax: number;
  /** The run's execute_tool span, the parent of the pool's spans. */
  trace?: TraceCarrier;
}

/** What a run hears of an execution while it runs. */
export interface ExecutionWatch {
  started(executionId: string, agentId: string): void;
  output(stream: "stdout" | "stderr", data: string): void;
}

/**
 * Runs one `run_code` call in the run's pool: the workspace's files plus the
 * call's own go in, the output and written files come back, and `watch` hears
 * of its start and output on the way. Aborting `signal` cancels the execution
 * (its container is killed).
 */
export async function executeCall(
  env: Env,
  place: ExecutionPlace,
  call: RunCodeInput,
  workspace: readonly WorkspaceFile[],
  signal: AbortSignal,
  waitUntil: (work: Promise<unknown>) => void,
  watch?: ExecutionWatch,
): Promise<ExecutionAttempt> {
  const id = newExecutionId();
  const files = new Map(workspace.map((f) => [f.path, f]));
  for (const f of call.files ?? []) files.set(f.path, { path: f.path, content: f.content, encoding: "utf8" });
  const report = await executeInPool(
    env,
    place.pool,
    {
      id,
      tenant: place.tenant,
      spec: {
        language: call.language,
        code: call.code,
        files: [...files.values()],
        args: [],
        env: {},
        limits: place.limits,
      },
      queueTimeoutMs: place.queueTimeoutMs,
      queueMax: place.queueMax,
      ...(place.trace ? { trace: place.trace } : {}),
    },
    {
      signal,
      waitUntil,
      onEvent: (event) => {
        if (event.type === "started") watch?.started(id, event.agentId);
        else if (event.type === "stdout" || event.type === "stderr") watch?.output(event.type, event.data);
      },
    },
  );
  if (signal.aborted) throw signal.reason ?? new Error("cancelled");
  if (report.kind === "refused") {
    return report.error.code === "pool_unavailable"
      ? { kind: "pool_failed", error: report.error }
      : { kind: "unavailable", error: report.error };
  }
  return { kind: "done", summary: report.summary, stdout: keep(report.stdout), stderr: keep(report.stderr) };
}
