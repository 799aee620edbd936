import type { RunView, WebhookStatus, WorkspaceFile } from "@edgeswarm/shared";
import { type RunState, runUsage } from "./state.ts";
import { fileBytes } from "./workspace.ts";

/** `GET /v1/runs/:id` from the folded state, the workspace and the webhook's delivery. */
export function runView(
  id: string,
  s: RunState,
  files: () => WorkspaceFile[],
  webhook: WebhookStatus | null = null,
): RunView {
  const lastStep = s.finishedSteps.at(-1);
  const team = s.team;
  const lastMessage = team?.messages.findLast((m) => m.speaker !== "user");
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
            summary: team ? (lastMessage?.text ?? "") : s.finishedSteps.map((f) => f.summary).join("\n\n"),
            code: team ? s.lastCode : (lastStep?.code ?? ""),
            stdout: s.lastExecution?.stdout ?? "",
            files: written,
            manifest: written.map((f) => ({ path: f.path, bytes: fileBytes(f), encoding: f.encoding })),
            stoppedBy: s.end?.stoppedBy ?? null,
          }
        : null,
    usage: {
      planner: s.usage.planner,
      coder: s.usage.coder,
      total: runUsage(s),
      ...(team ? { team: Object.fromEntries(team.usage) } : {}),
    },
    team: team ? { kind: team.config.kind, messages: team.messages.length, next: team.next } : null,
    error: s.end?.reason ? { reason: s.end.reason, message: s.end.message ?? "" } : null,
    metadata: s.created?.metadata ?? null,
    createdAt: s.createdAt ?? "",
    updatedAt: s.updatedAt ?? "",
    finishedAt: s.finishedAt,
    webhook,
    traceId: s.created?.trace?.traceId ?? null,
    links: {
      self: `/v1/runs/${id}`,
      events: `/v1/runs/${id}/events`,
      messages: `/v1/runs/${id}/messages`,
      state: `/v1/runs/${id}/state`,
    },
  };
}
