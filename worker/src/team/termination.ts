import type { Termination } from "@edgeswarm/shared";

/** One message of a team's conversation, as termination reads it. */
export interface TeamMessage {
  speaker: string;
  text: string;
  /** The names of the tools it called. */
  toolCalls: readonly string[];
  /** Whom it handed off to, if it did. */
  handoff?: string | undefined;
  /** The run's tokens, in and out, once this message was made. */
  tokens: number;
  /** Milliseconds from the team's start to this message. */
  atMs: number;
}

/**
 * The index of the message after which `t` is met, or null while it is not.
 * Every condition stays met once it is (as AutoGen's do, until a reset), so
 * `any` is met at its earliest child and `all` at its latest: the team stops
 * at the first message after which its termination is met. A fold of the
 * log, so a re-driven run stops at the same message.
 */
export function metAt(t: Termination, messages: readonly TeamMessage[]): number | null {
  const first = (test: (m: TeamMessage, i: number) => boolean) => {
    const i = messages.findIndex(test);
    return i < 0 ? null : i;
  };
  if ("maxMessages" in t) return messages.length >= t.maxMessages ? t.maxMessages - 1 : null;
  if ("tokenUsage" in t) return first((m) => m.tokens >= t.tokenUsage);
  if ("timeoutMs" in t) return first((m) => m.atMs >= t.timeoutMs);
  if ("handoff" in t) return first((m) => m.handoff === t.handoff);
  if ("functionCall" in t) return first((m) => m.toolCalls.includes(t.functionCall));
  if ("textMention" in t) {
    return first((m) => (!t.sources || t.sources.includes(m.speaker)) && m.text.includes(t.textMention));
  }
  const at = ("any" in t ? t.any : t.all).map((c) => metAt(c, messages));
  if ("any" in t) {
    const met = at.filter((i): i is number => i !== null);
    return met.length ? Math.min(...met) : null;
  }
  return at.every((i) => i !== null) ? Math.max(...(at as number[])) : null;
}

/**
 * The atomic conditions that ended the team, when it is over: for `any`, the
 * child met first; for `all`, each of them. For `result.stoppedBy`.
 */
export function stoppedBy(t: Termination, messages: readonly TeamMessage[]): Termination[] | null {
  const at = metAt(t, messages);
  if (at === null) return null;
  if ("any" in t) {
    const child = t.any.find((c) => metAt(c, messages) === at);
    return child ? stoppedBy(child, messages) : null;
  }
  if ("all" in t) return t.all.flatMap((c) => stoppedBy(c, messages) ?? []);
  return [t];
}
