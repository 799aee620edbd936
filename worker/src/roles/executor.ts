import {
  type ErrorBody,
  type ExecutionRequest,
  type ExecutionSummary,
  type Limits,
  newExecutionId,
  type WorkspaceFile,
} from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { readEvents } from "../http/ndjson.ts";
import { type ExecuteBody, POOL_PATHS, poolUrl } from "../pool/internal.ts";
import type { RunCodeInput } from "./coder.ts";

/** Most characters of each stream kept in the run's log (the model sees less). */
export const LOGGED_OUTPUT_CHARS = 64 * 1024;

export type ExecutionAttempt =
  | { kind: "done"; summary: ExecutionSummary; stdout: string; stderr: string }
  /** No agent could take it (503 or 422 from the pool): retry later or give up. */
  | { kind: "unavailable"; code: string; message: string };

function keep(text: string): string {
  if (text.length <= LOGGED_OUTPUT_CHARS) return text;
  const half = LOGGED_OUTPUT_CHARS / 2;
  return `${text.slice(0, half)}\n…(${text.length - LOGGED_OUTPUT_CHARS} characters cut)…\n${text.slice(-half)}`;
}

/**
 * Runs one `run_code` call in the run's pool: the workspace's files plus the
 * call's own go in, the output and written files come back. Aborting `signal`
 * cancels the execution (its container is killed).
 */
export async function executeCall(
  env: Env,
  pool: string,
  call: RunCodeInput,
  workspace: readonly WorkspaceFile[],
  limits: Limits,
  signal: AbortSignal,
): Promise<ExecutionAttempt> {
  const files = new Map(workspace.map((f) => [f.path, f]));
  for (const f of call.files ?? []) files.set(f.path, { path: f.path, content: f.content, encoding: "utf8" });
  const request: ExecutionRequest = {
    language: call.language,
    code: call.code,
    files: [...files.values()],
    args: [],
    env: {},
    limits,
    network: "none",
  };
  const id = newExecutionId();
  const answer = await env.POOL.getByName(pool).fetch(poolUrl(POOL_PATHS.execute), {
    method: "POST",
    body: JSON.stringify({ id, request } satisfies ExecuteBody),
  });
  if (!answer.ok || !answer.body) {
    const body = (await answer.json().catch(() => null)) as ErrorBody | null;
    return {
      kind: "unavailable",
      code: body?.error.code ?? String(answer.status),
      message: body?.error.message ?? answer.statusText,
    };
  }
  let stdout = "";
  let stderr = "";
  let summary: ExecutionSummary | undefined;
  for await (const event of readEvents(answer.body, signal)) {
    if (event.type === "stdout") stdout += event.data;
    else if (event.type === "stderr") stderr += event.data;
    else if (event.type === "finished") summary = event.result;
  }
  if (!summary) {
    if (signal.aborted) throw signal.reason ?? new Error("cancelled");
    return {
      kind: "unavailable",
      code: "pool_unavailable",
      message: "the pool stopped answering during the execution",
    };
  }
  return { kind: "done", summary, stdout: keep(stdout), stderr: keep(stderr) };
}
