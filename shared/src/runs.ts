import { z } from "zod";
import { FileEncoding, fileSetProblem, WorkspaceFile } from "./api.ts";
import { Name } from "./ids.ts";
import { LimitsInput, QueueTimeoutMs } from "./limits.ts";
import { RoleModel } from "./models.ts";
import { StopCondition, Team, TeamStateExport } from "./teams.ts";
import { TraceId } from "./trace.ts";

/** Run ids: `run_` and 24 lowercase hex digits. */
export const RunId = z.string().regex(/^run_[0-9a-f]{24}$/);
export type RunId = z.infer<typeof RunId>;

export function newRunId(): RunId {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `run_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export const RUN_MAXIMA = {
  taskChars: 32 * 1024,
  maxIterations: 50,
  tokenBudget: 10_000_000,
  timeoutMs: 3_600_000,
  metadataKeys: 32,
  /** Task turns in a run: its task and the follow-ups that continue it once it has ended. */
  taskTurns: 50,
} as const;

export const RUN_DEFAULTS = {
  maxIterations: 8,
  timeoutMs: 600_000,
  planner: { provider: "openai", model: "o3-mini" },
  coder: { provider: "anthropic", model: "claude-sonnet-4-6" },
} as const;

/**
 * What the coder's requests carry, for cost: `promptCache` marks the stable
 * prefix (system prompt and tools) and the newest turn for the provider's
 * prompt cache; tool results older than the last `fullTurns` turns go as a
 * short digest (null: every result whole). The run's log keeps everything.
 */
export const ContextPolicy = z
  .object({
    promptCache: z.boolean().default(true),
    fullTurns: z.number().int().min(1).max(RUN_MAXIMA.maxIterations).nullable().default(3),
  })
  .strict();
export type ContextPolicy = z.infer<typeof ContextPolicy>;
export const DEFAULT_CONTEXT_POLICY: ContextPolicy = { promptCache: true, fullTurns: 3 };

/** `POST /v1/runs` body. */
export const RunRequest = z
  .object({
    task: z.string().min(1).max(RUN_MAXIMA.taskChars),
    /** The planner's model; `null` skips planning (the task is the one step). */
    planner: RoleModel.nullable().optional(),
    coder: RoleModel.optional(),
    maxIterations: z.number().int().min(1).max(RUN_MAXIMA.maxIterations).default(RUN_DEFAULTS.maxIterations),
    tokenBudget: z.number().int().min(100).max(RUN_MAXIMA.tokenBudget).optional(),
    timeoutMs: z.number().int().min(1_000).max(RUN_MAXIMA.timeoutMs).default(RUN_DEFAULTS.timeoutMs),
    approval: z.enum(["never", "always"]).default("never"),
    /** Each execution's limits, and how long each may wait for a sandbox (`queueTimeoutMs`). */
    limits: LimitsInput.extend({ queueTimeoutMs: QueueTimeoutMs.optional() }).strict().default({}),
    files: z
      .array(WorkspaceFile)
      .max(100)
      .default([])
      .superRefine((files, ctx) => {
        const problem = fileSetProblem(files.map((f) => f.path));
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    metadata: z
      .record(z.string().min(1).max(64), z.string().max(1024))
      .refine((m) => Object.keys(m).length <= RUN_MAXIMA.metadataKeys, {
        message: `at most ${RUN_MAXIMA.metadataKeys} keys`,
      })
      .optional(),
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional(),
    pool: Name.optional(),
    context: ContextPolicy.prefault({}),
    /** Who works on the task and how they take turns (teams.ts); absent: the default team, planner then coder. */
    team: Team.optional(),
    /** A team state from `GET /v1/runs/:id/state`: the new run continues its conversation, with `task` as the next turn. */
    fromState: TeamStateExport.optional(),
  })
  .strict()
  .superRefine((req, ctx) => {
    if (!req.team && !req.fromState) return;
    for (const key of ["planner", "coder"] as const) {
      if (req[key] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `${key} belongs to the default team; a team names each participant's model`,
        });
      }
    }
  });
export type RunRequest = z.infer<typeof RunRequest>;
export type RunRequestInput = z.input<typeof RunRequest>;

export const RUN_STATUSES = [
  "queued",
  "planning",
  "running",
  "awaiting_approval",
  "awaiting_input",
  "succeeded",
  "failed",
  "cancelled",
  "timed_out",
] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "cancelled", "timed_out"];

/** Why a run ended other than `succeeded`. */
export const RUN_END_REASONS = [
  "max_iterations",
  "token_budget",
  "timed_out",
  "cancelled",
  "model_error",
  "no_sandbox_available",
  "step_failed",
  "internal_error",
  /** A team made the most messages a task turn, or a run, may hold (TEAM_BOUNDS). */
  "max_messages",
] as const;
export const RunEndReason = z.enum(RUN_END_REASONS);
export type RunEndReason = z.infer<typeof RunEndReason>;

export const PlanStep = z.object({
  goal: z.string().min(1).max(4000),
  successCriterion: z.string().min(1).max(4000),
});
export type PlanStep = z.infer<typeof PlanStep>;

/**
 * Tokens a model call used. `inputTokens` counts every input token, cached or
 * not; the cache fields say how many of them the provider read from its prompt
 * cache or wrote to it, where it reports that (absent in runs from before).
 */
export const TokenUsage = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int().optional(),
  cacheWriteTokens: z.number().int().optional(),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

/** The sum of two usages; a cache field is present when either has it. */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  const sum: TokenUsage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  if (a.cacheReadTokens !== undefined || b.cacheReadTokens !== undefined) {
    sum.cacheReadTokens = (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0);
  }
  if (a.cacheWriteTokens !== undefined || b.cacheWriteTokens !== undefined) {
    sum.cacheWriteTokens = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  }
  return sum;
}

/**
 * Where the run's webhook delivery stands (see webhooks.ts): `pending` until an
 * attempt is accepted (`delivered`) or the retries end (`failed`).
 */
export const WebhookStatus = z.object({
  deliveryId: z.string(),
  state: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number().int(),
  /** The HTTP status of the last attempt; null before the first answer or after a network error. */
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  /** When the next attempt is due (ISO), while pending. */
  nextAttemptAt: z.string().nullable(),
});
export type WebhookStatus = z.infer<typeof WebhookStatus>;

/** A file named with its decoded size, without its content. */
export const FileSize = z.object({ path: z.string(), encoding: FileEncoding, bytes: z.number().int() });
export type FileSize = z.infer<typeof FileSize>;

/** `GET /v1/runs/:id`. */
export const RunView = z.object({
  id: RunId,
  status: RunStatus,
  task: z.string(),
  plan: z.array(PlanStep).nullable(),
  currentStep: z.number().int().nullable(),
  iterations: z.number().int(),
  result: z
    .object({
      summary: z.string(),
      code: z.string(),
      stdout: z.string(),
      files: z.array(WorkspaceFile),
      /** Each file the run wrote, with its size in bytes: what `files` holds, without the content. */
      manifest: z.array(FileSize),
      /** A team's run: what ended it (its termination's conditions, or the orchestrator's verdict); null otherwise. */
      stoppedBy: z.array(StopCondition).nullable(),
    })
    .nullable(),
  usage: z.object({
    planner: TokenUsage,
    coder: TokenUsage,
    total: TokenUsage,
    /** A team's run: each participant's, and the selector's or orchestrator's under its name. */
    team: z.record(z.string(), TokenUsage).optional(),
  }),
  /** A team's run: its kind, its messages so far, and who speaks next; null for the default team. */
  team: z
    .object({
      kind: z.string(),
      messages: z.number().int(),
      next: z.string().nullable(),
    })
    .nullable(),
  error: z.object({ reason: RunEndReason, message: z.string() }).nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** The terminal-state webhook: null for a run without `webhookUrl` or one still running. */
  webhook: WebhookStatus.nullable(),
  /** The W3C trace the run's spans are in (its run.created event has the rest); null for older runs. */
  traceId: TraceId.nullable(),
  links: z.object({ self: z.string(), events: z.string(), messages: z.string(), state: z.string() }),
});
export type RunView = z.infer<typeof RunView>;

/** `POST /v1/runs/:id/approval` body. */
export const ApprovalRequest = z
  .object({
    approve: z.boolean(),
    reason: z.string().max(2000).optional(),
    /** Which waiting call this decides, when a reply made several; the first waiting one if absent. */
    toolCallId: z.string().max(64).optional(),
  })
  .strict();
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

/** One line of `GET /v1/runs`. */
export const RunSummary = z.object({
  id: RunId,
  status: RunStatus,
  task: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunList = z.object({ runs: z.array(RunSummary), nextCursor: z.string().nullable() });
export type RunList = z.infer<typeof RunList>;
