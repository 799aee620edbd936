import {
  addUsage,
  type RunEvent,
  type StoredTeam,
  type TeamMessage,
  type TokenUsage,
  USER_SPEAKER,
} from "@edgeswarm/shared";

/** One message of the team's conversation, with what termination reads of it. */
export interface TeamRecord extends TeamMessage {
  /** The log's seq; 0 for a message a run made `fromState` took over. */
  seq: number;
  at: string;
  /** The run's tokens, in and out, once this message was made. */
  tokens: number;
}

/** A magentic_one orchestrator's instruction, shown before the message it asked for. */
export interface Instruction {
  to: string;
  text: string;
}

/**
 * A team's state, folded from the log: its conversation and its manager's
 * state (who speaks next, the selector's attempts, the orchestrator's
 * ledgers). The loop decides from it (team/loop.ts); nothing else writes it.
 */
export interface TeamState {
  config: StoredTeam;
  messages: TeamRecord[];
  /** Where the current task turn's messages begin: termination counts from here. */
  segmentFrom: number;
  /** The run's tokens when the current task turn began. */
  segmentTokens: number;
  /** The participant whose turn is in progress (it made tool calls), or null between turns. */
  speaking: string | null;
  /** Who speaks next, once decided; null while the selector or the orchestrator must decide. */
  next: string | null;
  /** A swarm handed off to the user: the run waits for `POST /messages`. */
  awaitingInput: boolean;
  /** Invalid picks of the selector since the last message, with what it said. */
  invalidPicks: string[];
  taskLedger: { facts: string; plan: string } | null;
  replanDue: boolean;
  /** How many messages there were when the last progress ledger was made; null before one. */
  progressAt: number | null;
  stalls: number;
  /** The orchestrator's verdict that the request is satisfied, once it is. */
  satisfied: string | null;
  /** Instructions by the index of the message they precede. */
  instructions: Map<number, Instruction>;
  /** Tokens by participant, and the selector's or the orchestrator's under its name. */
  usage: Map<string, TokenUsage>;
}

export function newTeamState(config: StoredTeam, history: readonly TeamMessage[], at: string): TeamState {
  const messages = history.map((m) => ({ ...m, seq: 0, at, tokens: 0 }));
  const t: TeamState = {
    config,
    messages,
    segmentFrom: messages.length,
    segmentTokens: 0,
    speaking: null,
    next: null,
    awaitingInput: false,
    invalidPicks: [],
    taskLedger: null,
    replanDue: false,
    progressAt: null,
    stalls: 0,
    satisfied: null,
    instructions: new Map(),
    usage: new Map(),
  };
  t.next = nextAfter(t, null);
  return t;
}

function count(t: TeamState, who: string, usage: TokenUsage | null): void {
  if (!usage) return;
  t.usage.set(who, addUsage(t.usage.get(who) ?? { inputTokens: 0, outputTokens: 0 }, usage));
}

/** The participant after `speaker` in the team's order; the first when there is none. */
export function inTurnAfter(t: TeamState, speaker: string | null): string {
  const names = t.config.participants.map((p) => p.name);
  const i = speaker === null ? -1 : names.indexOf(speaker);
  return names[(i + 1) % names.length] ?? names[0] ?? "";
}

/** The last participant (not the user) to speak, if any. */
export function lastSpeaker(t: TeamState): string | null {
  for (let i = t.messages.length - 1; i >= 0; i--) {
    const m = t.messages[i];
    if (m && m.speaker !== USER_SPEAKER) return m.speaker;
  }
  return null;
}

/**
 * Who speaks next without asking a model: round-robin's next in turn, a
 * swarm's handoff target (or the speaker itself until it hands off); null for
 * a selector or an orchestrator, which decide.
 */
function nextAfter(t: TeamState, m: TeamMessage | null): string | null {
  switch (t.config.kind) {
    case "round_robin":
      return inTurnAfter(t, lastSpeaker(t));
    case "swarm": {
      if (m && m.speaker !== USER_SPEAKER) return m.handoff && m.handoff !== USER_SPEAKER ? m.handoff : m.speaker;
      if (t.next) return t.next;
      // The last handoff to a participant decides, else the first participant.
      for (let i = t.messages.length - 1; i >= 0; i--) {
        const h = t.messages[i]?.handoff;
        if (h && h !== USER_SPEAKER) return h;
      }
      return lastSpeaker(t) ?? inTurnAfter(t, null);
    }
    default:
      return null;
  }
}

/** Applies one team event to the team's state (called from the run's fold). */
export function applyTeamEvent(t: TeamState, e: RunEvent, runTokens: () => number): void {
  switch (e.type) {
    case "participant.replied":
      t.speaking = e.payload.speaker;
      count(t, e.payload.speaker, e.payload.usage);
      break;
    case "team.message": {
      const m = e.payload;
      count(t, m.speaker, m.usage);
      const record: TeamRecord = {
        speaker: m.speaker,
        text: m.text,
        toolCalls: m.toolCalls,
        seq: e.seq,
        at: e.at,
        tokens: runTokens(),
      };
      if (m.handoff) record.handoff = m.handoff;
      t.messages.push(record);
      t.speaking = null;
      t.invalidPicks = [];
      if (m.speaker === USER_SPEAKER) t.awaitingInput = false;
      else if (m.handoff === USER_SPEAKER) t.awaitingInput = true;
      t.next = nextAfter(t, m);
      break;
    }
    case "team.selected":
      count(t, "selector", e.payload.usage);
      if (e.payload.speaker) {
        t.next = e.payload.speaker;
        t.invalidPicks = [];
      } else t.invalidPicks.push(e.payload.said);
      break;
    case "team.ledger": {
      const l = e.payload;
      count(t, "orchestrator", l.usage);
      if (l.kind === "task") {
        t.taskLedger = { facts: l.facts, plan: l.plan };
        t.replanDue = false;
        t.stalls = 0;
        t.progressAt = null;
        t.next = null;
        break;
      }
      t.progressAt = t.messages.length;
      t.stalls = l.stalls;
      if (l.isRequestSatisfied.answer) {
        t.satisfied = l.isRequestSatisfied.reason || "the orchestrator found the request satisfied";
        break;
      }
      if (l.stalls >= (t.config.orchestrator?.maxStalls ?? 3)) {
        t.replanDue = true;
        t.next = null;
        break;
      }
      t.next = l.speaker;
      t.instructions.set(t.messages.length, { to: l.speaker, text: l.instruction.answer });
      break;
    }
    case "run.continued":
      t.messages.push({
        speaker: USER_SPEAKER,
        text: e.payload.text,
        toolCalls: [],
        seq: e.seq,
        at: e.at,
        tokens: runTokens(),
      });
      t.segmentFrom = t.messages.length;
      t.segmentTokens = runTokens();
      t.speaking = null;
      t.awaitingInput = false;
      t.invalidPicks = [];
      t.satisfied = null;
      if (t.config.kind === "magentic_one") {
        t.replanDue = t.taskLedger !== null;
        t.progressAt = null;
      }
      if (t.config.kind === "selector" || t.config.kind === "magentic_one") t.next = null;
      else t.next = nextAfter(t, null);
      break;
  }
}
