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
import { applyTeamEvent, newTeamState, type TeamState } from "../team/state.ts";

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
  /** When the current task turn began: the run's creation, or its last follow-up (`run.continued`). */
  turnStartedAt: string | null;
  /** The run's task turns: its task, then each follow-up message to it after it ended. */
  tasks: string[];
  /** The default team's summaries of the steps of earlier task turns. */
  earlierSummaries: string[];
  updatedAt: string | null;
  finishedAt: string | null;
  lastSeq: number;
  status: RunStatus;
  plan: PlanStep[] | null;
  /** The step in progress (0-based), or null before the first starts. */
  step: number | null;
  /** The span of the step in progress, when it has one (trace.ts). */
  stepSpan: { spanId: string; seq: number; at: string } | null;
  /** The span of the current task turn after the first (`run.continued`), under the root (trace.ts). */
  turnSpan: { spanId: string; seq: number; at: string } | null;
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
  modelRetries: { role: PayloadOf<"model.retry">["role"]; attempt: number; notBefore: number } | null;
  /** Execution retries of the pending call. */
  executionRetries: Map<string, ExecutionRetry>;
  /** The last execution that ran, for the run's result. */
  lastExecution: PayloadOf<"execution.finished"> | null;
  /** The code of the call that last ran: a team's result shows it. */
  lastCode: string;
  /** Workspace paths written by executions during the run. */
  writtenFiles: Set<string>;
  end: {
    reason: RunEndReason | null;
    message: string | null;
    stoppedBy: PayloadOf<"run.finished">["stoppedBy"];
  } | null;
  /** A team's conversation and manager; null for the default team. */
  team: TeamState | null;
}

const zero = (): TokenUsage => ({ inputTokens: 0, outputTokens: 0 });

export function emptyState(): RunState {
  return {
    created: null,
    createdAt: null,
    turnStartedAt: null,
    tasks: [],
    earlierSummaries: [],
    updatedAt: null,
    finishedAt: null,
    lastSeq: 0,
    status: "queued",
    plan: null,
    step: null,
    stepSpan: null,
    turnSpan: null,
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
    lastCode: "",
    writtenFiles: new Set(),
    end: null,
    team: null,
  };
}

/** Every model call's usage in the run: the default team's roles and a team's speakers. */
export function runUsage(state: RunState): TokenUsage {
  let u = addUsage(state.usage.planner, state.usage.coder);
  for (const v of state.team?.usage.values() ?? []) u = addUsage(u, v);
  return u;
}

export function totalTokens(state: RunState): number {
  const u = runUsage(state);
  return u.inputTokens + u.outputTokens;
}

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

/** Applies one event to the state (mutating it: the fold is the only writer). */
export function applyEvent(s: RunState, e: RunEvent): RunState {
  s.lastSeq = e.seq;
  s.updatedAt = e.at;
  if (e.type === "run.continued") {
    if (isTerminal(s.status)) {
      continueRun(s, e.payload.text, e.at);
      s.turnSpan = e.payload.spanId ? { spanId: e.payload.spanId, seq: e.seq, at: e.at } : null;
    }
    if (s.team) applyTeamEvent(s.team, e, () => totalTokens(s));
    return s;
  }
  if (isTerminal(s.status)) return s; // nothing after the end changes the run, until it is continued
  if (s.team) applyTeamEvent(s.team, e, () => totalTokens(s));
  switch (e.type) {
    case "run.created":
      s.created = e.payload;
      s.createdAt = e.at;
      s.turnStartedAt = e.at;
      s.tasks = [e.payload.task];
      if (e.payload.team) s.team = newTeamState(e.payload.team, e.payload.history ?? [], e.at);
      s.status = e.payload.planner ? "planning" : "running";
      break;
    case "participant.replied":
      s.turns.push({
        kind: "reply",
        reply: {
          step: e.payload.turn,
          text: e.payload.text,
          toolCalls: e.payload.toolCalls,
          usage: e.payload.usage,
          ...(e.payload.droppedToolCalls ? { droppedToolCalls: e.payload.droppedToolCalls } : {}),
        },
        seq: e.seq,
      });
      s.toolCallCount += e.payload.toolCalls.length;
      s.modelRetries = null;
      break;
    case "team.message":
      s.turns = [];
      s.modelRetries = null;
      if (s.team?.awaitingInput) s.status = "awaiting_input";
      else if (s.status === "awaiting_input") s.status = "running";
      break;
    case "team.selected":
    case "team.ledger":
      s.modelRetries = null;
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
      s.lastCode = codeOf(s, e.payload.toolCallId);
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
      s.end = { reason: e.payload.reason, message: e.payload.message, stoppedBy: e.payload.stoppedBy };
      break;
  }
  return s;
}

/**
 * An ended run taken up again with a new task turn: the conversation, the
 * workspace and the usage stay; the turn's limits (iterations, the deadline)
 * start again. The default team plans the new task, with the earlier steps'
 * summaries in its briefing.
 */
function continueRun(s: RunState, text: string, at: string): void {
  s.tasks.push(text);
  s.turnStartedAt = at;
  s.status = s.created?.planner && !s.team ? "planning" : "running";
  s.finishedAt = null;
  s.end = null;
  s.iterations = 0;
  s.modelRetries = null;
  s.turns = [];
  if (s.team) return;
  s.earlierSummaries.push(...s.finishedSteps.map((f) => f.summary));
  s.plan = null;
  s.step = null;
  s.stepSpan = null;
  s.finishedSteps = [];
}

export function foldRun(events: Iterable<RunEvent>): RunState {
  const s = emptyState();
  for (const e of events) applyEvent(s, e);
  return s;
}

function codeOf(s: RunState, toolCallId: string): string {
  for (const t of s.turns) {
    const call = t.kind === "reply" ? t.reply.toolCalls.find((c) => c.id === toolCallId) : undefined;
    const code = (call?.input as { code?: unknown } | undefined)?.code;
    if (call) return typeof code === "string" ? code : "";
  }
  return "";
}

/** The task the planner plans: the current task turn, after the earlier ones and what was done for them. */
export function taskForPlanner(s: RunState): string {
  const now = s.tasks.at(-1) ?? s.created?.task ?? "";
  if (s.tasks.length < 2) return now;
  const earlier = s.tasks.slice(0, -1).map((t, i) => `${i + 1}. ${t}`);
  const done = s.earlierSummaries.length ? `\n\nWhat was done for them:\n${s.earlierSummaries.join("\n")}` : "";
  return `${now}\n\nEarlier requests in this run (its workspace holds their files):\n${earlier.join("\n")}${done}`;
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
