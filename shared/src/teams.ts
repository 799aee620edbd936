import { z } from "zod";
import { ModelRef, RoleModel } from "./models.ts";

/**
 * A run's team (issue 14): who takes part, who speaks next, and when the
 * team stops. Parsed here once; the run loop folds a team's turns from the
 * log. A run without `team` has the built-in team "default": the planner,
 * then the coder with its executor.
 */

export const TEAM_KINDS = ["round_robin", "selector", "swarm", "magentic_one"] as const;
export const TeamKind = z.enum(TEAM_KINDS);
export type TeamKind = z.infer<typeof TeamKind>;

export const TEAM_BOUNDS = {
  participants: 8,
  instructionsChars: 8000,
  descriptionChars: 1000,
  /** Conditions in one termination, counting every `any`/`all` and what they hold. */
  conditions: 16,
  /** How deep `any`/`all` may nest. */
  depth: 4,
  /** The most messages a termination's maxMessages may name, and the most in one task turn. */
  maxMessages: 1000,
  /** The most messages a team's run holds in all, its history and the caller's included. */
  runMessages: 2000,
} as const;

/** A team that sets no termination stops after this many messages (the run's own limits hold too). */
export const DEFAULT_MAX_MESSAGES = 50;

/** Participant names: they become tool names (`transfer_to_<name>`) and speakers in the log. */
export const ParticipantName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: "must match ^[a-z][a-z0-9_-]{0,31}$" });

/** Names the run itself uses as speakers or usage keys: the caller, the orchestrator, the selector. */
export const RESERVED_NAMES = ["user", "orchestrator", "selector"] as const;

/** The tools each role may be given: a participant's `tools` is a subset. */
export const ROLE_TOOLS = { coder: ["run_code"], assistant: [], planner: [] } as const;
export const TeamRole = z.enum(["coder", "assistant", "planner"]);
export type TeamRole = z.infer<typeof TeamRole>;

export const Participant = z
  .object({
    name: ParticipantName,
    role: TeamRole,
    model: RoleModel.optional(),
    /** Added to the role's system prompt. */
    instructions: z.string().max(TEAM_BOUNDS.instructionsChars).optional(),
    /** What the selector reads to choose it. */
    description: z.string().max(TEAM_BOUNDS.descriptionChars).optional(),
    tools: z.array(z.string()).max(8).optional(),
    /** Swarm only: whom it may hand off to (participant names, or "user"). */
    handoffs: z
      .array(z.union([ParticipantName, z.literal("user")]))
      .max(TEAM_BOUNDS.participants + 1)
      .optional(),
  })
  .strict();
export type Participant = z.infer<typeof Participant>;

export type Termination =
  | { maxMessages: number }
  | { textMention: string; sources?: string[] | undefined }
  | { tokenUsage: number }
  | { timeoutMs: number }
  | { handoff: string }
  | { functionCall: string }
  | { any: Termination[] }
  | { all: Termination[] };

export const Termination: z.ZodType<Termination, Termination> = z.lazy(() =>
  z.union([
    z.object({ maxMessages: z.number().int().min(1).max(TEAM_BOUNDS.maxMessages) }).strict(),
    z
      .object({ textMention: z.string().min(1).max(200), sources: z.array(ParticipantName).min(1).max(8).optional() })
      .strict(),
    z.object({ tokenUsage: z.number().int().min(1) }).strict(),
    z.object({ timeoutMs: z.number().int().min(1) }).strict(),
    z.object({ handoff: z.union([ParticipantName, z.literal("user")]) }).strict(),
    z.object({ functionCall: z.string().min(1).max(64) }).strict(),
    z.object({ any: z.array(Termination).min(1).max(TEAM_BOUNDS.conditions) }).strict(),
    z.object({ all: z.array(Termination).min(1).max(TEAM_BOUNDS.conditions) }).strict(),
  ]),
);

/** How many conditions a termination holds, and how deep it nests. */
export function terminationShape(t: Termination): { conditions: number; depth: number } {
  const inner = "any" in t ? t.any : "all" in t ? t.all : null;
  if (!inner) return { conditions: 1, depth: 1 };
  const shapes = inner.map(terminationShape);
  return {
    conditions: 1 + shapes.reduce((n, s) => n + s.conditions, 0),
    depth: 1 + Math.max(...shapes.map((s) => s.depth)),
  };
}

export const Team = z
  .object({
    kind: TeamKind,
    participants: z.array(Participant).min(1).max(TEAM_BOUNDS.participants),
    termination: Termination.optional(),
    selector: z
      .object({
        model: RoleModel,
        prompt: z.string().max(TEAM_BOUNDS.instructionsChars).optional(),
        allowRepeatedSpeaker: z.boolean().default(true),
      })
      .strict()
      .optional(),
    orchestrator: z
      .object({ model: RoleModel, maxStalls: z.number().int().min(1).max(20).default(3) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((team, ctx) => {
    const names = team.participants.map((p) => p.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) {
        ctx.addIssue({ code: "custom", path: ["participants", i, "name"], message: `'${name}' is taken` });
      }
      if ((RESERVED_NAMES as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: "custom",
          path: ["participants", i, "name"],
          message: `'${name}' is reserved (${RESERVED_NAMES.join(", ")} are not participant names)`,
        });
      }
    });
    team.participants.forEach((p, i) => {
      const allowed: readonly string[] = ROLE_TOOLS[p.role];
      (p.tools ?? []).forEach((tool, j) => {
        if (!allowed.includes(tool)) {
          const offer = allowed.length ? allowed.join(", ") : "none";
          ctx.addIssue({
            code: "custom",
            path: ["participants", i, "tools", j],
            message: `a ${p.role} has no tool '${tool}' (its tools: ${offer})`,
          });
        }
      });
      if (p.handoffs && team.kind !== "swarm") {
        ctx.addIssue({ code: "custom", path: ["participants", i, "handoffs"], message: "only a swarm hands off" });
      }
      (p.handoffs ?? []).forEach((to, j) => {
        if (to !== "user" && !names.includes(to)) {
          ctx.addIssue({ code: "custom", path: ["participants", i, "handoffs", j], message: `no participant '${to}'` });
        }
        if (to === p.name) {
          ctx.addIssue({
            code: "custom",
            path: ["participants", i, "handoffs", j],
            message: "cannot hand off to itself",
          });
        }
      });
    });
    if (team.kind === "swarm" && !team.participants.some((p) => (p.handoffs ?? []).length > 0)) {
      ctx.addIssue({ code: "custom", path: ["participants"], message: "a swarm needs at least one handoff" });
    }
    if (team.kind === "selector" && !team.selector) {
      ctx.addIssue({ code: "custom", path: ["selector"], message: "a selector team needs selector: {model}" });
    }
    if (team.kind === "magentic_one" && !team.orchestrator) {
      ctx.addIssue({
        code: "custom",
        path: ["orchestrator"],
        message: "a magentic_one team needs orchestrator: {model}",
      });
    }
    if (team.selector && team.kind !== "selector") {
      ctx.addIssue({ code: "custom", path: ["selector"], message: "only a selector team has a selector" });
    }
    if (team.orchestrator && team.kind !== "magentic_one") {
      ctx.addIssue({ code: "custom", path: ["orchestrator"], message: "only a magentic_one team has an orchestrator" });
    }
    if (team.termination) {
      const { conditions, depth } = terminationShape(team.termination);
      if (conditions > TEAM_BOUNDS.conditions) {
        ctx.addIssue({
          code: "custom",
          path: ["termination"],
          message: `at most ${TEAM_BOUNDS.conditions} conditions in all (this has ${conditions})`,
        });
      }
      if (depth > TEAM_BOUNDS.depth) {
        ctx.addIssue({
          code: "custom",
          path: ["termination"],
          message: `any/all nest at most ${TEAM_BOUNDS.depth} deep`,
        });
      }
      forEachCondition(team.termination, ["termination"], (c, path) => {
        const sources = "textMention" in c ? (c.sources ?? []) : [];
        sources.forEach((s, j) => {
          if (!names.includes(s))
            ctx.addIssue({ code: "custom", path: [...path, "sources", j], message: `no participant '${s}'` });
        });
        if ("handoff" in c && c.handoff !== "user" && !names.includes(c.handoff)) {
          ctx.addIssue({ code: "custom", path: [...path, "handoff"], message: `no participant '${c.handoff}'` });
        }
      });
    }
  });
export type Team = z.infer<typeof Team>;
export type TeamInput = z.input<typeof Team>;

function forEachCondition(
  t: Termination,
  path: (string | number)[],
  visit: (c: Termination, path: (string | number)[]) => void,
): void {
  visit(t, path);
  const [key, inner] = "any" in t ? ["any", t.any] : "all" in t ? ["all", t.all] : [null, []];
  inner.forEach((c, i) => {
    forEachCondition(c, [...path, key ?? "", i], visit);
  });
}

/** The most characters of a team message's text a run keeps (and a state import takes). */
export const TEAM_MESSAGE_CHARS = 16 * 1024;
/** The most messages a state export carries, and an import takes: the newest. */
export const TEAM_STATE_MESSAGES = 200;

/** Speakers that are not participants: the caller, and a magentic_one team's orchestrator. */
export const USER_SPEAKER = "user";
export const ORCHESTRATOR_SPEAKER = "orchestrator";

/**
 * What the other participants see of one tool call of a turn: its outcome,
 * and the head and tail of its output, so that a reviewer reads what the
 * coder's program printed without the whole log.
 */
export const ToolCallSummary = z.object({
  id: z.string().max(64),
  name: z.string().max(64),
  /** An execution's status, or `rejected` / `denied`. */
  status: z.string().max(32),
  exitCode: z.number().int().nullable(),
  /** The stdout's head and tail (cut in the middle). */
  stdout: z.string().max(2000),
  /** The stderr's tail, or the rejection's message. */
  stderr: z.string().max(2000),
  files: z.array(z.string().max(1024)).max(10),
});
export type ToolCallSummary = z.infer<typeof ToolCallSummary>;

/** One message of a team's conversation, as the log keeps it and a state export carries it. */
export const TeamMessage = z.object({
  speaker: z.union([ParticipantName, z.literal(USER_SPEAKER)]),
  text: z.string().max(TEAM_MESSAGE_CHARS),
  toolCalls: z.array(ToolCallSummary).max(16),
  /** Whom the speaker handed the conversation to (swarm). */
  handoff: z.union([ParticipantName, z.literal(USER_SPEAKER)]).optional(),
});
export type TeamMessage = z.infer<typeof TeamMessage>;

/** `POST /v1/runs/:id/messages` body. */
export const SendMessageRequest = z.object({ text: z.string().min(1).max(TEAM_MESSAGE_CHARS) }).strict();
export type SendMessageRequest = z.infer<typeof SendMessageRequest>;

/** What ended a team: its termination's conditions that were met, or the orchestrator's verdict. */
export const StopCondition = z.union([Termination, z.object({ requestSatisfied: z.string().max(2000) }).strict()]);
export type StopCondition = z.infer<typeof StopCondition>;

export const TEAM_STATE_VERSION = 1;

/**
 * `GET /v1/runs/:id/state`: a team's state, in the spirit of AutoGen's
 * `save_state`. `team` is in the request's own shape, so `POST /v1/runs`
 * takes the whole export back as `fromState`. Every participant sees the
 * whole conversation, so its thread is `messages`; `participants` says which
 * of them each one said.
 */
export const TeamStateExport = z
  .object({
    version: z.literal(TEAM_STATE_VERSION),
    team: Team,
    /** The run's task turns: the first task, then each follow-up. */
    tasks: z.array(z.string().max(TEAM_MESSAGE_CHARS)).min(1).max(TEAM_STATE_MESSAGES),
    messages: z.array(TeamMessage).max(TEAM_STATE_MESSAGES),
    /** Older messages left out of `messages`. */
    omitted: z.number().int().min(0).default(0),
    manager: z.object({
      kind: TeamKind,
      /** Who speaks next, when the manager has decided. */
      next: z.string().nullable(),
      awaitingInput: z.boolean(),
      /** magentic_one: the task ledger, and the stalled turns counted since it was made. */
      taskLedger: z.object({ facts: z.string(), plan: z.string() }).nullable().optional(),
      stalls: z.number().int().optional(),
    }),
    participants: z
      .record(z.string(), z.object({ role: TeamRole, said: z.array(z.number().int()).max(TEAM_STATE_MESSAGES) }))
      .refine((r) => Object.keys(r).length <= TEAM_BOUNDS.participants, {
        message: `at most ${TEAM_BOUNDS.participants} participants`,
      }),
  })
  .strict();
export type TeamStateExport = z.infer<typeof TeamStateExport>;
export type TeamStateExportInput = z.input<typeof TeamStateExport>;

/** A participant as a run stores it: its model resolved, its tools and handoffs made explicit. */
export const StoredParticipant = z.object({
  name: ParticipantName,
  role: TeamRole,
  model: ModelRef,
  instructions: z.string().nullable(),
  description: z.string().nullable(),
  tools: z.array(z.string()),
  handoffs: z.array(z.string()),
});
export type StoredParticipant = z.infer<typeof StoredParticipant>;

/** A team as `run.created` keeps it: `termination` is the one that applies (the default when none was given). */
export const StoredTeam = z.object({
  kind: TeamKind,
  participants: z.array(StoredParticipant),
  termination: Termination,
  /** True when the request gave no termination and DEFAULT_MAX_MESSAGES applies. */
  defaultTermination: z.boolean(),
  selector: z.object({ model: ModelRef, prompt: z.string().nullable(), allowRepeatedSpeaker: z.boolean() }).nullable(),
  orchestrator: z.object({ model: ModelRef, maxStalls: z.number().int() }).nullable(),
});
export type StoredTeam = z.infer<typeof StoredTeam>;
