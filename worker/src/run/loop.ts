import type { RunEndReason, RunStatus, StopCondition, ToolCallRecord } from "@edgeswarm/shared";
import { type TeamAction, teamAction } from "../team/loop.ts";
import { isTerminal, lastReply, pendingCalls, type RunState, totalTokens } from "./state.ts";

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
      status: Exclude<RunStatus, "queued" | "planning" | "running" | "awaiting_approval" | "awaiting_input">;
      reason: RunEndReason | null;
      message: string | null;
      /** A team's end: what was met. */
      stoppedBy?: StopCondition[];
    }
  | { kind: "plan" }
  | { kind: "skip_plan" }
  | { kind: "start_step"; step: number }
  | { kind: "call_coder" }
  | { kind: "nudge"; message: string }
  | { kind: "reject"; call: ToolCallRecord; message: string }
  /** Every run_code call of the reply not yet asked about, asked together. */
  | { kind: "ask_approval"; calls: ToolCallRecord[] }
  /** One or more run_code calls of one reply, run at once. */
  | { kind: "execute"; calls: ToolCallRecord[] }
  | { kind: "finish_step"; call: ToolCallRecord }
  | TeamAction;

/** How many failed model calls in a row a run tolerates before it fails `model_error`. */
export const MAX_MODEL_RETRIES = 6;

export function nextAction(s: RunState, now: number): Action {
  const run = s.created;
  if (!run || isTerminal(s.status)) return { kind: "idle" };

  if (now >= deadlineOf(s)) {
    return {
      kind: "end",
      status: "timed_out",
      reason: "timed_out",
      message: `the run passed its timeoutMs of ${run.timeoutMs}`,
    };
  }
  if (s.modelRetries && now < s.modelRetries.notBefore) return { kind: "wait", until: s.modelRetries.notBefore };
  if (s.team) return teamAction(s, s.team, now);

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

  const pending = pendingCalls(s);
  const call = pending[0];
  if (call) {
    if (call.name === "finish") return { kind: "finish_step", call };
    return answerCalls(s, pending, now, { runCode: true, tools: "run_code or finish" });
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

/** When the current task turn must end: its start plus the run's timeoutMs. */
export function deadlineOf(s: RunState): number {
  return Date.parse(s.turnStartedAt ?? s.createdAt ?? "") + (s.created?.timeoutMs ?? 0);
}

/**
 * What to do about a reply's unanswered tool calls (the first of `pending`
 * decides): reject an unknown tool, ask for approval, wait for a retry, or
 * run a batch. `tools` names what the speaker may call, for the rejection.
 */
export function answerCalls(
  s: RunState,
  pending: ToolCallRecord[],
  now: number,
  may: { runCode: boolean; tools: string },
): Action {
  const call = pending[0];
  if (!call) return { kind: "idle" };
  if (call.name !== "run_code" || !may.runCode) {
    return limitIterations(s) ?? { kind: "reject", call, message: `unknown tool '${call.name}'; use ${may.tools}` };
  }
  if (s.created?.approval === "always") {
    const unasked = pending.filter((c) => c.name === "run_code" && !s.approvals.has(c.id));
    if (unasked.length > 0) return { kind: "ask_approval", calls: unasked };
    if (pending.some((c) => s.approvals.get(c.id) === true)) return { kind: "idle" }; // parked until decided
  }
  const retry = s.executionRetries.get(call.id);
  if (retry && now < retry.notBefore) return { kind: "wait", until: retry.notBefore };
  return limitIterations(s) ?? { kind: "execute", calls: batch(s, pending, now) };
}

/**
 * The run_code calls that run together: the first pending call and those that
 * follow it up to the next other tool, or one that must wait for a retry, and
 * no more than the iterations left (each call is one).
 */
function batch(s: RunState, pending: ToolCallRecord[], now: number): ToolCallRecord[] {
  const left = (s.created?.maxIterations ?? 0) - s.iterations;
  const calls: ToolCallRecord[] = [];
  for (const c of pending) {
    const retry = s.executionRetries.get(c.id);
    if (c.name !== "run_code" || (retry && now < retry.notBefore) || calls.length >= left) break;
    calls.push(c);
  }
  return calls;
}

export function limitIterations(s: RunState): Action | null {
  const max = s.created?.maxIterations ?? 0;
  if (s.iterations < max) return null;
  return { kind: "end", status: "failed", reason: "max_iterations", message: `the run used its ${max} iterations` };
}

export function overBudget(s: RunState): Action | null {
  const budget = s.created?.tokenBudget;
  if (!budget || totalTokens(s) < budget) return null;
  return {
    kind: "end",
    status: "failed",
    reason: "token_budget",
    message: `the run used ${totalTokens(s)} tokens of its budget of ${budget}`,
  };
}
