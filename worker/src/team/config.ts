import {
  DEFAULT_MAX_MESSAGES,
  type ModelRef,
  type Provider,
  ROLE_TOOLS,
  type RoleModel,
  type StoredTeam,
  type Team,
  type TeamMessage,
  type TeamRole,
  type TeamStateExport,
  USER_SPEAKER,
} from "@edgeswarm/shared";
import { storedModel } from "../models/config.ts";

/** The provider a role's model defaults to, as the default team's do: planners on OpenAI, the rest on Anthropic. */
const DEFAULT_PROVIDER: Record<TeamRole, Provider> = { coder: "anthropic", assistant: "anthropic", planner: "openai" };

/** Most characters of JSON a run's history (from `fromState`) may take in its run.created event. */
export const HISTORY_CHARS = 1024 * 1024;

/**
 * The team as the run keeps it: each model resolved (and checked by
 * `check`, which throws for one the tenant may not use or the Worker cannot
 * reach), tools made explicit, and the termination that applies.
 */
export function storedTeam(team: Team, check: (role: string, model: ModelRef) => void): StoredTeam {
  const resolve = (role: string, asked: RoleModel | undefined, fallback: Provider) => {
    const model = storedModel(asked, fallback);
    check(role, model);
    return model;
  };
  return {
    kind: team.kind,
    participants: team.participants.map((p) => ({
      name: p.name,
      role: p.role,
      model: resolve(`participant '${p.name}'`, p.model, DEFAULT_PROVIDER[p.role]),
      instructions: p.instructions ?? null,
      description: p.description ?? null,
      tools: [...(p.tools ?? ROLE_TOOLS[p.role])],
      handoffs: [...(p.handoffs ?? [])],
    })),
    termination: team.termination ?? { maxMessages: DEFAULT_MAX_MESSAGES },
    defaultTermination: team.termination === undefined,
    selector: team.selector
      ? {
          model: resolve("selector", team.selector.model, team.selector.model.provider),
          prompt: team.selector.prompt ?? null,
          allowRepeatedSpeaker: team.selector.allowRepeatedSpeaker,
        }
      : null,
    orchestrator: team.orchestrator
      ? {
          model: resolve("orchestrator", team.orchestrator.model, team.orchestrator.model.provider),
          maxStalls: team.orchestrator.maxStalls,
        }
      : null,
  };
}

const asked = (ref: ModelRef): RoleModel => ({
  provider: ref.provider,
  model: ref.model,
  ...(ref.baseUrl ? { baseUrl: ref.baseUrl } : {}),
});

/** A stored team in the request's shape, so that an export's `team` is taken back as it is. */
export function teamAsRequest(t: StoredTeam): Team {
  return {
    kind: t.kind,
    participants: t.participants.map((p) => ({
      name: p.name,
      role: p.role,
      model: asked(p.model),
      ...(p.instructions !== null ? { instructions: p.instructions } : {}),
      ...(p.description !== null ? { description: p.description } : {}),
      tools: p.tools,
      ...(p.handoffs.length ? { handoffs: p.handoffs } : {}),
    })),
    ...(t.defaultTermination ? {} : { termination: t.termination }),
    ...(t.selector
      ? {
          selector: {
            model: asked(t.selector.model),
            ...(t.selector.prompt !== null ? { prompt: t.selector.prompt } : {}),
            allowRepeatedSpeaker: t.selector.allowRepeatedSpeaker,
          },
        }
      : {}),
    ...(t.orchestrator
      ? { orchestrator: { model: asked(t.orchestrator.model), maxStalls: t.orchestrator.maxStalls } }
      : {}),
  };
}

/**
 * The conversation a run made from a state export continues: the export's
 * first task, then its messages, the oldest left out past HISTORY_CHARS.
 */
export function historyOf(state: TeamStateExport): TeamMessage[] {
  const first: TeamMessage = { speaker: USER_SPEAKER, text: state.tasks[0] ?? "", toolCalls: [] };
  const messages = [...state.messages];
  let size = JSON.stringify(messages).length + first.text.length;
  while (messages.length > 0 && size > HISTORY_CHARS) size -= JSON.stringify(messages.shift()).length + 1;
  return [first, ...messages];
}
