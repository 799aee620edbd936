import type { RunEndReason, RunStatus, ToolCallRecord } from "@edgeswarm/shared";
import { isTerminal, lastReply, pendingCall, type RunState, totalTokens } from "./state.ts";

/**
 * What the run does next, decided from its state alone. Each action is one
 * effect whose result is appended to the log; the driver performs actions
 * until it reaches `idle` (nothing to do: waiting for approval, or ended) or
 * `wait` (a retry's backoff).
 */
export type Action =
  | { kind: "idle" }
  | { kind: "wait"; until: number }
  | {
      kind: "end";
      status: Exclude<RunStatus, "queued" | "planning" | "running" | "awaiting_approval">;
      reason: RunEndReason | null;
      message: string | null;
    }
  | { kind: "plan" }
  | { kind: "skip_plan" }
  | { kind: "start_step"; step: number }
  | { kind: "call_coder" }
  | { kind: "nudge"; message: string }
  | { kind: "reject"; call: ToolCallRecord; message: string }
  | { kind: "ask_approval"; call: ToolCallRecord }
  | { kind: "execute"; call: ToolCallRecord }
  | { kind: "finish_step"; call: ToolCallRecord };

/** How many failed model calls in a row a run tolerates before it fails `model_error`. */
export const MAX_MODEL_RETRIES = 6;

export function nextAction(s: RunState, now: number): Action {
  const run = s.created;
  if (!run || isTerminal(s.status)) return { kind: "idle" };

  const deadline = Date.parse(s.createdAt ?? "") + run.timeoutMs;
  if (now >= deadline) {
    return {
      kind: "end",
      status: "timed_out",
      reason: "timed_out",
      message: `the run passed its timeoutMs of ${run.timeoutMs}`,
    };
  }
  if (s.modelRetries && now < s.modelRetries.notBefore) return { kind: "wait", until: s.modelRetries.notBefore };

  if (!s.plan) return run.planner ? (overBudget(s) ?? { kind: "plan" }) : { kind: "skip_plan" };

  const current = s.step;
  const finished = s.finishedSteps.length;
  if (current === null || finished > current) {
    const lastVerdict = s.finishedSteps.at(-1);
    if (lastVerdict?.verdict === "failure") {
      return {
        kind: "end",
        status: "failed",
        reason: "step_failed",
        message: `step ${finished} failed: ${lastVerdict.summary}`,
      };
    }
    if (finished < s.plan.length) return { kind: "start_step", step: finished };
    return { kind: "end", status: "succeeded", reason: null, message: null };
  }

  const call = pendingCall(s);
  if (call) {
    if (call.name === "finish") return { kind: "finish_step", call };
    if (call.name !== "run_code") {
      return (
        limitIterations(s) ?? { kind: "reject", call, message: `unknown tool '${call.name}'; use run_code or finish` }
      );
    }
    const approval = s.approvals.get(call.id);
    if (run.approval === "always" && approval === undefined) return { kind: "ask_approval", call };
    if (approval === true) return { kind: "idle" }; // parked until someone decides
    const retry = s.executionRetries.get(call.id);
    if (retry && now < retry.notBefore) return { kind: "wait", until: retry.notBefore };
    return limitIterations(s) ?? { kind: "execute", call };
  }

  const last = lastReply(s);
  if (last && last.reply.toolCalls.length === 0) {
    return (
      limitIterations(s) ?? {
        kind: "nudge",
        message: "Reply with a tool call: run_code to run code, or finish when the step's success criterion is met.",
      }
    );
  }
  return overBudget(s) ?? { kind: "call_coder" };
}

function limitIterations(s: RunState): Action | null {
  const max = s.created?.maxIterations ?? 0;
  if (s.iterations < max) return null;
  return { kind: "end", status: "failed", reason: "max_iterations", message: `the run used its ${max} iterations` };
}

function overBudget(s: RunState): Action | null {
  const budget = s.created?.tokenBudget;
  if (!budget || totalTokens(s) < budget) return null;
  return {
    kind: "end",
    status: "failed",
    reason: "token_budget",
    message: `the run used ${totalTokens(s)} tokens of its budget of ${budget}`,
  };
}
