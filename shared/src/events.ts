import { z } from "zod";
import { ExecutionStatus, Language } from "./api.ts";
import { Limits } from "./limits.ts";
import { ModelRef } from "./models.ts";
import { ContextPolicy, PlanStep, RunEndReason, RunStatus, TokenUsage } from "./runs.ts";
import { StopCondition, StoredTeam, TeamMessage } from "./teams.ts";
import { RunTrace, SpanId } from "./trace.ts";

/**
 * The events of a run: its append-only log and its message bus. Each event is
 * written first and acted on after, so the log alone is enough to re-drive a
 * run after a restart. `v` is the schema version of the payload.
 */
export const EVENT_VERSION = 1;

/** Most characters of the sandbox's description a run keeps for its prompts. */
export const SANDBOX_BRIEF_CHARS = 8 * 1024;

/** Most characters of one execution's live output (`execution.output`) a run's log keeps. */
export const LIVE_OUTPUT_CHARS = 256 * 1024;

export const EventSource = z.enum([
  "api",
  "planner",
  "coder",
  "executor",
  "loop",
  // A team's other speakers (issue 14).
  "assistant",
  "selector",
  "orchestrator",
]);
export type EventSource = z.infer<typeof EventSource>;

export const ToolCallRecord = z.object({
  /** The run's own id for the call (`call_<n>`, unique in the run), whatever the model sent. */
  id: z.string(),
  /** The id the model gave it, if any: for reading logs, never for matching outcomes. */
  providerId: z.string().optional(),
  name: z.string(),
  /** The parsed arguments; absent when they were not JSON, or too large to keep. */
  input: z.unknown().optional(),
  /** The arguments' text, when it did not parse (cut). */
  raw: z.string().optional(),
  /** The arguments' size in characters, when they were too large to keep. */
  oversized: z.number().int().optional(),
});
export type ToolCallRecord = z.infer<typeof ToolCallRecord>;

/** Each event type and its payload. */
export const EVENT_PAYLOADS = {
  "run.created": z.object({
    task: z.string(),
    tenant: z.string(),
    planner: ModelRef.nullable(),
    coder: ModelRef,
    maxIterations: z.number().int(),
    tokenBudget: z.number().int().nullable(),
    timeoutMs: z.number().int(),
    approval: z.enum(["never", "always"]),
    limits: Limits,
    /** How long each execution may wait for a sandbox; absent in runs from before the queue. */
    queueTimeoutMs: z.number().int().optional(),
    pool: z.string(),
    metadata: z.record(z.string(), z.string()).nullable(),
    webhookUrl: z.string().nullable(),
    files: z.array(z.string()),
    /** Where the run is in its trace; absent in runs from before tracing. */
    trace: RunTrace.optional(),
    /** Prompt caching and digests; absent in runs from before them (the defaults apply). */
    context: ContextPolicy.optional(),
    /**
     * What the sandbox holds, in a few lines for the prompts, from what the
     * pool's agents advertised when the run was made; absent when none had
     * (then it is asked for again at each model call).
     */
    sandbox: z.string().max(SANDBOX_BRIEF_CHARS).optional(),
    /** The run's team; absent for the default team (planner, then coder). */
    team: StoredTeam.optional(),
    /** The conversation a run made `fromState` continues: it comes before `task`. */
    history: z.array(TeamMessage).optional(),
  }),
  "plan.created": z.object({ steps: z.array(PlanStep), skipped: z.boolean(), usage: TokenUsage.nullable() }),
  /** `spanId`: the step's span, made when it starts; absent in runs from before tracing. */
  "step.started": z.object({ step: z.number().int(), spanId: SpanId.optional() }),
  "coder.replied": z.object({
    step: z.number().int(),
    text: z.string(),
    toolCalls: z.array(ToolCallRecord),
    /** Tool calls past the most one reply may make, dropped. */
    droppedToolCalls: z.number().int().optional(),
    usage: TokenUsage,
  }),
  "tool.rejected": z.object({ step: z.number().int(), toolCallId: z.string(), name: z.string(), message: z.string() }),
  "approval.requested": z.object({
    step: z.number().int(),
    toolCallId: z.string(),
    language: Language,
    code: z.string(),
    /** The files the call writes into the workspace before its code runs: part of what is approved. */
    files: z.array(z.object({ path: z.string(), content: z.string() })).optional(),
  }),
  "approval.decided": z.object({ toolCallId: z.string(), approve: z.boolean(), reason: z.string().nullable() }),
  /** A sandbox took the call: its output follows as `execution.output`, then `execution.finished`. */
  "execution.started": z.object({
    toolCallId: z.string(),
    executionId: z.string(),
    agentId: z.string(),
  }),
  /**
   * Output as it arrives, coalesced (about every 100 ms) and capped per
   * execution at LIVE_OUTPUT_CHARS. `cut` marks the last piece the log keeps
   * when the cap was reached: the rest is only in `execution.finished`.
   */
  "execution.output": z.object({
    executionId: z.string(),
    toolCallId: z.string(),
    stream: z.enum(["stdout", "stderr"]),
    data: z.string(),
    cut: z.literal(true).optional(),
  }),
  "execution.finished": z.object({
    step: z.number().int(),
    iteration: z.number().int(),
    toolCallId: z.string(),
    executionId: z.string().nullable(),
    agentId: z.string().nullable(),
    language: Language,
    status: ExecutionStatus,
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    durationMs: z.number(),
    stdout: z.string(),
    stderr: z.string(),
    truncated: z.object({ stdout: z.boolean(), stderr: z.boolean() }),
    /** Workspace paths the execution wrote or changed (their content is in the run's file store). */
    files: z.array(z.string()),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  }),
  "execution.retry": z.object({
    toolCallId: z.string(),
    attempt: z.number().int(),
    reason: z.enum(["agent_lost", "no_sandbox", "pool_unavailable"]),
    delayMs: z.number().int(),
    message: z.string(),
  }),
  "model.retry": z.object({
    /** The default team's planner or coder, or a team's participant role, selector or orchestrator. */
    role: z.enum(["planner", "coder", "assistant", "selector", "orchestrator"]),
    attempt: z.number().int(),
    delayMs: z.number().int(),
    message: z.string(),
  }),
  "step.finished": z.object({
    step: z.number().int(),
    summary: z.string(),
    code: z.string(),
    verdict: z.enum(["success", "failure"]),
  }),
  "run.finished": z.object({
    status: RunStatus,
    reason: RunEndReason.nullable(),
    message: z.string().nullable(),
    /** A team's end: the conditions that were met. */
    stoppedBy: z.array(StopCondition).optional(),
  }),
  /**
   * A team participant's model reply that made tool calls: its turn goes on
   * until it replies without one (then `team.message`).
   */
  "participant.replied": z.object({
    speaker: z.string(),
    /** The team message this turn will be (0-based). */
    turn: z.number().int(),
    text: z.string(),
    toolCalls: z.array(ToolCallRecord),
    droppedToolCalls: z.number().int().optional(),
    usage: TokenUsage,
  }),
  /** One message to the team: a participant's turn ended, or the caller wrote (speaker `user`). */
  "team.message": TeamMessage.extend({
    /** The model call that made it; null for the caller's. */
    usage: TokenUsage.nullable(),
    /** A planner participant's plan. */
    plan: z.array(PlanStep).optional(),
  }),
  /**
   * A selector team's choice of the next speaker. `speaker` is null for an
   * invalid pick (`said` is what the selector answered); after the last
   * attempt the next in turn is taken, `by: "fallback"`.
   */
  "team.selected": z.object({
    speaker: z.string().nullable(),
    by: z.enum(["selector", "fallback"]),
    attempt: z.number().int(),
    said: z.string(),
    candidates: z.array(z.string()),
    usage: TokenUsage.nullable(),
  }),
  /** A magentic_one orchestrator's ledger: the task ledger (facts and plan), or a progress ledger after a turn. */
  "team.ledger": z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("task"),
      facts: z.string(),
      plan: z.string(),
      /** True when stalled turns made the orchestrator plan again. */
      replan: z.boolean(),
      usage: TokenUsage,
    }),
    z.object({
      kind: z.literal("progress"),
      isRequestSatisfied: z.object({ answer: z.boolean(), reason: z.string() }),
      isProgressBeingMade: z.object({ answer: z.boolean(), reason: z.string() }),
      isInLoop: z.object({ answer: z.boolean(), reason: z.string() }),
      nextSpeaker: z.object({ answer: z.string(), reason: z.string() }),
      instruction: z.object({ answer: z.string(), reason: z.string() }),
      /** The speaker taken: `nextSpeaker`, or the next in turn when it named no participant. */
      speaker: z.string(),
      /** Stalled turns counted, this one included. */
      stalls: z.number().int(),
      usage: TokenUsage,
    }),
  ]),
  /**
   * The caller continued an ended run with a new task turn (`POST /v1/runs/:id/messages`);
   * `spanId` is that turn's workflow span, under the run's root (worker/src/run/trace.ts).
   */
  "run.continued": z.object({ text: z.string(), turn: z.number().int(), spanId: SpanId.optional() }),
} as const;

export type RunEventType = keyof typeof EVENT_PAYLOADS;
export const RUN_EVENT_TYPES = Object.keys(EVENT_PAYLOADS) as RunEventType[];

function eventSchema<T extends RunEventType>(type: T) {
  return z.object({
    seq: z.number().int().min(1),
    type: z.literal(type),
    source: EventSource,
    at: z.string(),
    v: z.literal(EVENT_VERSION),
    payload: EVENT_PAYLOADS[type],
  });
}

export const RunEvent = z.discriminatedUnion(
  "type",
  RUN_EVENT_TYPES.map((t) => eventSchema(t)) as unknown as [
    ReturnType<typeof eventSchema<RunEventType>>,
    ...ReturnType<typeof eventSchema<RunEventType>>[],
  ],
);

/** One event as stored and as served, typed by its `type`. */
export type RunEventOf<T extends RunEventType> = {
  seq: number;
  type: T;
  source: EventSource;
  at: string;
  v: typeof EVENT_VERSION;
  payload: z.infer<(typeof EVENT_PAYLOADS)[T]>;
};
export type RunEvent = { [T in RunEventType]: RunEventOf<T> }[RunEventType];
export type PayloadOf<T extends RunEventType> = z.infer<(typeof EVENT_PAYLOADS)[T]>;

/** `GET /v1/runs/:id/events` as JSON: a page of events after `?after=`. */
export const EventPage = z.object({ events: z.array(RunEvent), next: z.number().int(), done: z.boolean() });
export type EventPage = { events: RunEvent[]; next: number; done: boolean };
