import { type StopCondition, type StoredParticipant, TEAM_BOUNDS, USER_SPEAKER } from "@edgeswarm/shared";
import { type Action, answerCalls, overBudget } from "../run/loop.ts";
import { pendingCalls, type RunState } from "../run/state.ts";
import { inTurnAfter, lastSpeaker, type TeamState } from "./state.ts";
import { stoppedBy, type TeamMessage as TerminationMessage } from "./termination.ts";

/** A team's actions, beside the ones it shares with the default team (tool calls, the end). */
export type TeamAction =
  /** A participant's model call: its turn begins or goes on. */
  | { kind: "speak"; speaker: string }
  /** The selector's model call, for the next speaker. */
  | { kind: "select" }
  /** The selector's picks were all invalid: the next in turn speaks. */
  | { kind: "fall_back"; speaker: string }
  /** The orchestrator's task ledger: facts and a plan (again, after stalls). */
  | { kind: "task_ledger" }
  /** The orchestrator's progress ledger, after a turn. */
  | { kind: "progress_ledger" }
  /** The speaker's reply handed off and its other calls are answered: its turn ends. */
  | { kind: "hand_off"; speaker: string; to: string };

/** How often an invalid pick of the selector is asked for again before the next in turn is taken. */
export const SELECTOR_RETRIES = 3;

export const HANDOFF_PREFIX = "transfer_to_";

/** The participant named `name`; the team's first if the log names none (never, for a log the run wrote). */
export function participant(t: TeamState, name: string | null): StoredParticipant {
  const all = t.config.participants;
  return all.find((p) => p.name === name) ?? (all[0] as StoredParticipant);
}

/** The tool names a participant may call. */
export function toolsOf(p: StoredParticipant): string[] {
  return [...p.tools, ...p.handoffs.map((h) => `${HANDOFF_PREFIX}${h}`)];
}

/** The current task turn's participant messages, as termination reads them. */
export function terminationMessages(s: RunState, t: TeamState): TerminationMessage[] {
  const start = Date.parse(s.turnStartedAt ?? s.createdAt ?? "");
  return t.messages
    .slice(t.segmentFrom)
    .filter((m) => m.speaker !== USER_SPEAKER)
    .map((m) => ({
      speaker: m.speaker,
      text: m.text,
      toolCalls: m.toolCalls.map((c) => c.name),
      handoff: m.handoff,
      tokens: m.tokens - t.segmentTokens,
      atMs: Date.parse(m.at) - start,
    }));
}

/** What ended the team, once something has: its termination, or the orchestrator's verdict. */
export function teamStop(s: RunState, t: TeamState): StopCondition[] | null {
  const met = stoppedBy(t.config.termination, terminationMessages(s, t));
  if (met) return met;
  return t.satisfied !== null ? [{ requestSatisfied: t.satisfied }] : null;
}

/**
 * A team's next action, decided from its state alone (see run/loop.ts for
 * the default team's). Termination is checked first, so after every message.
 */
export function teamAction(s: RunState, t: TeamState, now: number): Action {
  const stop = teamStop(s, t);
  if (stop) return { kind: "end", status: "succeeded", reason: null, message: null, stoppedBy: stop };
  const inTurn = t.messages.length - t.segmentFrom;
  if (inTurn >= TEAM_BOUNDS.maxMessages || t.messages.length >= TEAM_BOUNDS.runMessages) {
    const [n, where] =
      inTurn >= TEAM_BOUNDS.maxMessages ? [TEAM_BOUNDS.maxMessages, "task turn"] : [TEAM_BOUNDS.runMessages, "run"];
    return {
      kind: "end",
      status: "failed",
      reason: "max_messages",
      message: `the team made ${n} messages, the most a ${where} holds; give it a termination that ends sooner`,
    };
  }
  if (t.awaitingInput) return { kind: "idle" };

  if (t.speaking) {
    const p = participant(t, t.speaking);
    const pending = pendingCalls(s);
    const handoffs = pending.filter((c) => p.handoffs.some((h) => c.name === `${HANDOFF_PREFIX}${h}`));
    const work = pending.filter((c) => !handoffs.includes(c));
    if (work.length > 0) {
      const tools = toolsOf(p);
      return answerCalls(s, work, now, {
        runCode: p.tools.includes("run_code"),
        tools: tools.length ? tools.join(", ") : "no tool: reply with your message to the team",
      });
    }
    const first = handoffs[0];
    if (first) return { kind: "hand_off", speaker: p.name, to: first.name.slice(HANDOFF_PREFIX.length) };
    return overBudget(s) ?? { kind: "speak", speaker: p.name };
  }

  switch (t.config.kind) {
    case "selector":
      if (t.next) break;
      if (t.invalidPicks.length > SELECTOR_RETRIES) {
        return { kind: "fall_back", speaker: inTurnAfter(t, lastSpeaker(t)) };
      }
      return overBudget(s) ?? { kind: "select" };
    case "magentic_one":
      if (!t.taskLedger || t.replanDue) return overBudget(s) ?? { kind: "task_ledger" };
      if (t.progressAt !== t.messages.length) return overBudget(s) ?? { kind: "progress_ledger" };
      break;
  }
  return overBudget(s) ?? { kind: "speak", speaker: t.next ?? inTurnAfter(t, lastSpeaker(t)) };
}
