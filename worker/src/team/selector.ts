import type { PayloadOf } from "@edgeswarm/shared";
import type { ModelClient } from "../models/model.ts";
import DEFAULT_PROMPT from "../prompts/selector.md";
import type { RunState } from "../run/state.ts";
import { lastSpeaker, type TeamState } from "./state.ts";
import { roster, transcript } from "./transcript.ts";

/** Characters of the selector's answer that the log keeps. */
const SAID_CHARS = 200;

/** Who the selector may pick: everyone, or everyone but the last speaker when it may not speak twice in a row. */
export function candidates(t: TeamState): string[] {
  const names = t.config.participants.map((p) => p.name);
  if (t.config.selector?.allowRepeatedSpeaker !== false || names.length < 2) return names;
  const last = lastSpeaker(t);
  return names.filter((n) => n !== last);
}

/**
 * The one candidate the answer names, as a whole word; null when it names
 * none, or more than one (AutoGen's rule: exactly one name mentioned).
 */
export function namedIn(answer: string, names: readonly string[]): string | null {
  const named = names.filter((n) => new RegExp(`(^|[^a-z0-9_-])${n}($|[^a-z0-9_-])`, "i").test(answer));
  return named.length === 1 ? (named[0] ?? null) : null;
}

/** The selector's prompt, with {roles}, {participants} and {history} filled in, as AutoGen's are. */
function promptOf(s: RunState, t: TeamState, names: readonly string[]): string {
  const prompt = t.config.selector?.prompt ?? DEFAULT_PROMPT;
  return prompt
    .replaceAll("{roles}", roster(t))
    .replaceAll("{participants}", names.join(", "))
    .replaceAll("{history}", prompt.includes("{history}") ? transcript(s, t) : "");
}

/** Asks the selector for the next speaker; an invalid answer is kept with `speaker: null`. */
export async function pickSpeaker(
  model: ModelClient,
  s: RunState,
  t: TeamState,
  signal: AbortSignal,
): Promise<Omit<PayloadOf<"team.selected">, "by">> {
  const names = candidates(t);
  const retry = t.invalidPicks.length
    ? `\n\nYour earlier answers named no single member: ${t.invalidPicks.map((p) => JSON.stringify(p)).join(", ")}. ` +
      `Reply with exactly one of: ${names.join(", ")}.`
    : "";
  const reply = await model.chat({
    system: promptOf(s, t, names),
    messages: [
      {
        role: "user",
        content: `The conversation:\n\n${transcript(s, t)}\n\nWho speaks next? One of: ${names.join(", ")}.${retry}`,
      },
    ],
    tools: [],
    maxTokens: 256,
    signal,
  });
  const said = reply.text.trim().slice(0, SAID_CHARS);
  return {
    speaker: namedIn(reply.text, names),
    attempt: t.invalidPicks.length + 1,
    said,
    candidates: names,
    usage: reply.usage,
  };
}
