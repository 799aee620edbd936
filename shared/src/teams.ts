import { z } from "zod";
import { RoleModel } from "./runs.ts";

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
  maxMessages: 1000,
} as const;

/** A team that sets no termination stops after this many messages (the run's own limits hold too). */
export const DEFAULT_MAX_MESSAGES = 50;

/** Participant names: they become tool names (`transfer_to_<name>`) and speakers in the log. */
export const ParticipantName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: "must match ^[a-z][a-z0-9_-]{0,31}$" });

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

export const Termination: z.ZodType<Termination> = z.lazy(() =>
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
