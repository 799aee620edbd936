import { TEAM_STATE_MESSAGES, TEAM_STATE_VERSION, type TeamMessage, type TeamStateExport } from "@edgeswarm/shared";
import type { RunState } from "../run/state.ts";
import { STATS_KEY_CHARS } from "../stats/stats-do.ts";
import { teamAsRequest } from "./config.ts";

/**
 * A team run's state as `GET /v1/runs/:id/state` exports it (see
 * TeamStateExport): its newest messages, its task turns and its manager's
 * state. Null for a run of the default team.
 */
export function teamStateExport(s: RunState): TeamStateExport | null {
  const t = s.team;
  if (!t) return null;
  const all = t.messages;
  const from = Math.max(0, all.length - TEAM_STATE_MESSAGES);
  const messages = all.slice(from).map(
    ({ speaker, text, toolCalls, handoff }): TeamMessage => ({
      speaker,
      text,
      toolCalls,
      ...(handoff ? { handoff } : {}),
    }),
  );
  const participants: TeamStateExport["participants"] = {};
  for (const p of t.config.participants) {
    participants[p.name] = {
      role: p.role,
      said: messages.flatMap((m, i) => (m.speaker === p.name ? [i] : [])),
    };
  }
  return {
    version: TEAM_STATE_VERSION,
    team: teamAsRequest(t.config),
    tasks: s.tasks.slice(-TEAM_STATE_MESSAGES),
    messages,
    omitted: from,
    manager: {
      kind: t.config.kind,
      next: t.speaking ?? t.next,
      awaitingInput: t.awaitingInput,
      taskLedger: t.taskLedger,
      stalls: t.stalls,
    },
    participants,
  };
}

/** A team run's tokens by role and model, for the tenant's statistics. */
export function teamTokens(
  s: RunState,
): { role: string; model: string; usage: { inputTokens: number; outputTokens: number } }[] {
  const t = s.team;
  if (!t) return [];
  const speakers = [
    ...t.config.participants.map((p) => ({ key: p.name, role: p.role, model: p.model.model })),
    ...(t.config.selector ? [{ key: "selector", role: "selector", model: t.config.selector.model.model }] : []),
    ...(t.config.orchestrator
      ? [{ key: "orchestrator", role: "orchestrator", model: t.config.orchestrator.model.model }]
      : []),
  ];
  return speakers.flatMap((sp) => {
    const usage = t.usage.get(sp.key);
    return usage ? [{ role: sp.role, model: sp.model.slice(0, STATS_KEY_CHARS), usage }] : [];
  });
}
