import type {
  PayloadOf,
  PlanStep,
  RunEndReason,
  RunEvent,
  RunStatus,
  TokenUsage,
  ToolCallRecord,
} from "@edgeswarm/shared";
import { addUsage, TERMINAL_RUN_STATUSES } from "@edgeswarm/shared";

/** How a tool call of the coder was answered. */
export type CallOutcome =
  | { kind: "executed"; result: PayloadOf<"execution.finished"> }
  | { kind: "rejected"; message: string }
  | { kind: "denied"; reason: string | null };

/** One turn of the current step's conversation with the coder, from the log. */
export type Turn =
  | { kind: "reply"; reply: PayloadOf<"coder.replied">; seq: number }
  | { kind: "nudge"; message: string };

/** How often a call's execution was tried again, since when, and when it may be next. */
export interface ExecutionRetry {
  attempt: number;
  agentLost: number;
  firstAt: number;
  notBefore: number;
}

/**
 * Everything the loop needs to know about a run, folded from its event log
 * (see {@link foldRun}). Pure data: the loop decides from it, the view shows it.
 */
export interface RunState {
  created: PayloadOf<"run.created"> | null;
  createdAt: string | null;
  updatedAt: string | null;
  finishedAt: string | null;
  lastSeq: number;
  status: RunStatus;
  plan: PlanStep[] | null;
  /** The step in progress (0-based), or null before the first starts. */
  step: number | null;
  /** The span of the step in progress, when it has one (trace.ts). */
  stepSpan: { spanId: string; seq: number; at: string } | null;
  /** Summaries of finished steps, in order. */
  finishedSteps: PayloadOf<"step.finished">[];
  /** Executions run (an agent_lost retry is not one) plus rejected tool calls. */
  iterations: number;
  /** Tool calls the coder made in the whole run: the next call's id is `call_<toolCallCount + 1>`. */
  toolCallCount: number;
  usage: { planner: TokenUsage; coder: TokenUsage };
  /** The current step's conversation: coder replies and nudges, in order. */
  turns: Turn[];
  /**
   * The workspace's paths when the current step started, sorted: the step's
   * briefing names them, and stays the same for the whole step so that the
   * prompt's prefix does too (later files are named in tool results).
   */
  stepFiles: string[];
  /** Answers to tool calls, by call id. */
  outcomes: Map<string, CallOutcome>;
  /** Approval asked (true) or decided (the decision), by call id. */
  approvals: Map<string, true | { approve: boolean; reason: string | null }>;
  /** Model retries in a row, for the role that is failing. */
  modelRetries: { role: "planner" | "coder"; attempt: number; notBefore: number } | null;
  /** Execution retries of the pending call. */
  executionRetries: Map<string, ExecutionRetry>;
  /** The last execution that ran, for the run's result. */
  lastExecution: PayloadOf<"execution.finished"> | null;
  /** Workspace paths written by executions during the run. */
  writtenFiles: Set<string>;
  end: { reason: RunEndReason | null; message: string | null } | null;
}

const zero = (): TokenUsage => ({ inputTokens: 0, outputTokens: 0 });

export function emptyState(): RunState {
  return {
    created: null,
    createdAt: null,
    updatedAt: null,
    finishedAt: null,
    lastSeq: 0,
    status: "queued",
    plan: null,
    step: null,
    stepSpan: null,
    finishedSteps: [],
    iterations: 0,
    toolCallCount: 0,
    usage: { planner: zero(), coder: zero() },
    turns: [],
    stepFiles: [],
    outcomes: new Map(),
    approvals: new Map(),
    modelRetries: null,
    executionRetries: new Map(),
    lastExecution: null,
    writtenFiles: new Set(),
    end: null,
  };
}

export function totalTokens(state: RunState): number {
  const u = addUsage(state.usage.planner, state.usage.coder);
  return u.inputTokens + u.outputTokens;
}

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

/** Applies one event to the state (mutating it: the fold is the only writer). */
export function applyEvent(s: RunState, e: RunEvent): RunState {
  s.lastSeq = e.seq;
  s.updatedAt = e.at;
  if (isTerminal(s.status)) return s; // nothing after the end changes the run
  switch (e.type) {
    case "run.created":
      s.created = e.payload;
      s.createdAt = e.at;
      s.status = e.payload.planner ? "planning" : "running";
      break;
    case "plan.created":
      s.plan = e.payload.steps;
      if (e.payload.usage) s.usage.planner = addUsage(s.usage.planner, e.payload.usage);
      s.modelRetries = null;
      s.status = "running";
      break;
    case "step.started":
      s.step = e.payload.step;
      s.stepSpan = e.payload.spanId ? { spanId: e.payload.spanId, seq: e.seq, at: e.at } : null;
      s.turns = [];
      s.stepFiles = [...new Set([...(s.created?.files ?? []), ...s.writtenFiles])].sort();
      break;
    case "coder.replied":
      s.turns.push({ kind: "reply", reply: e.payload, seq: e.seq });
      s.toolCallCount += e.payload.toolCalls.length;
      s.usage.coder = addUsage(s.usage.coder, e.payload.usage);
      s.modelRetries = null;
      break;
    case "tool.rejected":
      s.iterations++;
      if (e.payload.toolCallId) s.outcomes.set(e.payload.toolCallId, { kind: "rejected", message: e.payload.message });
      else s.turns.push({ kind: "nudge", message: e.payload.message });
      break;
    case "approval.requested":
      s.approvals.set(e.payload.toolCallId, true);
      s.status = "awaiting_approval";
      break;
    case "approval.decided":
      s.approvals.set(e.payload.toolCallId, { approve: e.payload.approve, reason: e.payload.reason });
      if (!e.payload.approve) s.outcomes.set(e.payload.toolCallId, { kind: "denied", reason: e.payload.reason });
      // A reply's calls are asked about together: the run waits until each is decided.
      if (![...s.approvals.values()].includes(true)) s.status = "running";
      break;
    case "execution.finished":
      s.iterations++;
      s.outcomes.set(e.payload.toolCallId, { kind: "executed", result: e.payload });
      s.executionRetries.delete(e.payload.toolCallId);
      s.lastExecution = e.payload;
      for (const path of e.payload.files) s.writtenFiles.add(path);
      break;
    case "execution.retry": {
      const prev = s.executionRetries.get(e.payload.toolCallId);
      s.executionRetries.set(e.payload.toolCallId, {
        attempt: e.payload.attempt,
        agentLost: (prev?.agentLost ?? 0) + (e.payload.reason === "agent_lost" ? 1 : 0),
        firstAt: prev?.firstAt ?? Date.parse(e.at),
        notBefore: Date.parse(e.at) + e.payload.delayMs,
      });
      break;
    }
    case "model.retry":
      s.modelRetries = {
        role: e.payload.role,
        attempt: e.payload.attempt,
        notBefore: Date.parse(e.at) + e.payload.delayMs,
      };
      break;
    case "step.finished":
      s.finishedSteps.push(e.payload);
      break;
    case "run.finished":
      s.status = e.payload.status;
      s.finishedAt = e.at;
      s.end = { reason: e.payload.reason, message: e.payload.message };
      break;
  }
  return s;
}

export function foldRun(events: Iterable<RunEvent>): RunState {
  const s = emptyState();
  for (const e of events) applyEvent(s, e);
  return s;
}

/** The current step's last coder reply, if the step has one. */
export function lastReply(s: RunState): { reply: PayloadOf<"coder.replied">; seq: number } | null {
  for (let i = s.turns.length - 1; i >= 0; i--) {
    const t = s.turns[i];
    if (t?.kind === "reply") return { reply: t.reply, seq: t.seq };
    if (t?.kind === "nudge") return null;
  }
  return null;
}

/** The tool calls of the last reply that have no answer yet, in the order they were made. */
export function pendingCalls(s: RunState): ToolCallRecord[] {
  const last = lastReply(s);
  if (!last) return [];
  return last.reply.toolCalls.filter((c) => !s.outcomes.has(c.id));
}
