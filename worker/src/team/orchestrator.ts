import type { PayloadOf, TokenUsage } from "@edgeswarm/shared";
import { z } from "zod";
import { jsonSchemaOf } from "../models/json-schema.ts";
import { type ModelClient, ModelError } from "../models/model.ts";
import SYSTEM from "../prompts/orchestrator.md";
import type { RunState } from "../run/state.ts";
import { inTurnAfter, lastSpeaker, type TeamState } from "./state.ts";
import { roster, transcript } from "./transcript.ts";

/**
 * A magentic_one team's orchestrator: it keeps a task ledger (facts and a
 * plan) and, after each turn, a progress ledger that says whether the request
 * is satisfied, whether the team is stuck, and who speaks next with what
 * instruction. Both are structured output.
 */

const LEDGER_CHARS = 16_000;
const TaskLedger = z
  .object({
    facts: z.string().max(LEDGER_CHARS).describe("known facts, facts to find, and educated guesses"),
    plan: z.string().max(LEDGER_CHARS).describe("a short bullet-point plan that names the members"),
  })
  .strict();

const answer = <T extends z.ZodType>(value: T) => z.object({ reason: z.string().max(4000), answer: value }).strict();
const ProgressLedger = z
  .object({
    is_request_satisfied: answer(z.boolean()),
    is_in_loop: answer(z.boolean()),
    is_progress_being_made: answer(z.boolean()),
    next_speaker: answer(z.string().max(64)),
    instruction: answer(z.string().max(LEDGER_CHARS)),
  })
  .strict();

export const TASK_LEDGER_SCHEMA = jsonSchemaOf(TaskLedger, { strictOutput: true });
export const PROGRESS_LEDGER_SCHEMA = jsonSchemaOf(ProgressLedger, { strictOutput: true });

function system(t: TeamState): string {
  const names = t.config.participants.map((p) => p.name).join(", ");
  return SYSTEM.replaceAll("{roles}", roster(t)).replaceAll("{participants}", names);
}

function parsed<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ModelError(`the orchestrator's ${what} is not valid: ${z.prettifyError(result.error)}`, {
    retryable: false,
  });
}

export async function taskLedger(
  model: ModelClient,
  s: RunState,
  t: TeamState,
  signal: AbortSignal,
): Promise<{ facts: string; plan: string; usage: TokenUsage }> {
  const again = t.taskLedger
    ? `\n\nThe team has stalled on the plan below. Revise the facts with what was learnt, and make a new plan.\n` +
      `Facts:\n${t.taskLedger.facts}\n\nPlan:\n${t.taskLedger.plan}`
    : "";
  const reply = await model.structured({
    system: system(t),
    prompt: `The conversation:\n\n${transcript(s, t)}${again}\n\nMake the task ledger.`,
    schemaName: "task_ledger",
    schema: TASK_LEDGER_SCHEMA,
    maxTokens: 4096,
    signal,
  });
  const ledger = parsed(TaskLedger, reply.value, "task ledger");
  return { ...ledger, usage: reply.usage };
}

type Progress = Omit<Extract<PayloadOf<"team.ledger">, { kind: "progress" }>, "kind">;

export async function progressLedger(
  model: ModelClient,
  s: RunState,
  t: TeamState,
  signal: AbortSignal,
): Promise<Progress> {
  const ledger = t.taskLedger;
  const reply = await model.structured({
    system: system(t),
    prompt:
      `Facts:\n${ledger?.facts ?? ""}\n\nPlan:\n${ledger?.plan ?? ""}\n\n` +
      `The conversation:\n\n${transcript(s, t)}\n\nMake the progress ledger.`,
    schemaName: "progress_ledger",
    schema: PROGRESS_LEDGER_SCHEMA,
    maxTokens: 4096,
    signal,
  });
  const l = parsed(ProgressLedger, reply.value, "progress ledger");
  return progressOf(t, l, reply.usage);
}

/**
 * The ledger as the log keeps it: the speaker taken (the one named, or the
 * next in turn when it names no member), and the stalls counted. A turn
 * without progress, or in a loop, is a stall; one with progress takes one
 * off, as Magentic-One counts.
 */
export function progressOf(t: TeamState, l: z.infer<typeof ProgressLedger>, usage: TokenUsage): Progress {
  const names = t.config.participants.map((p) => p.name);
  const named = names.find((n) => n === l.next_speaker.answer.trim());
  const stalled = !l.is_progress_being_made.answer || l.is_in_loop.answer;
  return {
    isRequestSatisfied: l.is_request_satisfied,
    isProgressBeingMade: l.is_progress_being_made,
    isInLoop: l.is_in_loop,
    nextSpeaker: l.next_speaker,
    instruction: l.instruction,
    speaker: named ?? inTurnAfter(t, lastSpeaker(t)),
    stalls: stalled ? t.stalls + 1 : Math.max(0, t.stalls - 1),
    usage,
  };
}
