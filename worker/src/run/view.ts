import { addUsage, type RunView, type WebhookStatus, type WorkspaceFile } from "@edgeswarm/shared";
import type { RunState } from "./state.ts";
import { fileBytes } from "./workspace.ts";

/** `GET /v1/runs/:id` from the folded state, the workspace and the webhook's delivery. */
export function runView(
  id: string,
  s: RunState,
  files: () => WorkspaceFile[],
  webhook: WebhookStatus | null = null,
): RunView {
  const lastStep = s.finishedSteps.at(-1);
  const written = s.status === "succeeded" ? files().filter((f) => s.writtenFiles.has(f.path)) : [];
  return {
    id,
    status: s.status,
    task: s.created?.task ?? "",
    plan: s.plan,
    currentStep: s.step,
    iterations: s.iterations,
    result:
      s.status === "succeeded"
        ? {
            summary: s.finishedSteps.map((f) => f.summary).join("\n\n"),
            code: lastStep?.code ?? "",
            stdout: s.lastExecution?.stdout ?? "",
            files: written,
            manifest: written.map((f) => ({ path: f.path, bytes: fileBytes(f), encoding: f.encoding })),
          }
        : null,
    usage: { planner: s.usage.planner, coder: s.usage.coder, total: addUsage(s.usage.planner, s.usage.coder) },
    error: s.end?.reason ? { reason: s.end.reason, message: s.end.message ?? "" } : null,
    metadata: s.created?.metadata ?? null,
    createdAt: s.createdAt ?? "",
    updatedAt: s.updatedAt ?? "",
    finishedAt: s.finishedAt,
    webhook,
    traceId: s.created?.trace?.traceId ?? null,
    links: { self: `/v1/runs/${id}`, events: `/v1/runs/${id}/events` },
  };
}
