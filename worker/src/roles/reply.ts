import type { ToolCallRecord } from "@edgeswarm/shared";
import type { ChatResponse } from "../models/model.ts";

/** Most characters of a coder's text kept in its reply event (and so replayed to it). */
export const MAX_REPLY_TEXT_CHARS = 64 * 1024;
/** Most tool calls of one reply that are kept; the rest are dropped, and the coder is told. */
export const MAX_TOOL_CALLS_PER_REPLY = 16;
/** Most characters of one call's arguments, as JSON; a larger call is kept without them, and rejected. */
export const MAX_TOOL_INPUT_CHARS = 1024 * 1024;
/** Most characters of all calls' arguments in one reply, so its event fits a storage row (2 MB). */
export const MAX_REPLY_INPUT_CHARS = 1536 * 1024;

/** A coder's reply as the run keeps it: bounded, with tool-call ids of the run's own. */
export interface KeptReply {
  text: string;
  toolCalls: ToolCallRecord[];
  /** Calls past MAX_TOOL_CALLS_PER_REPLY that were dropped. */
  droppedToolCalls: number;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n…(${text.length - max} characters cut)`;
}

/**
 * Bounds a model's reply before it enters the log: its text, how many tool
 * calls, and how large their arguments. Each kept call gets an id unique in
 * the run (`call_<n>`, counting from `nextCall`), whatever id the model sent:
 * outcomes are keyed by these, so a model that repeats or leaves out ids
 * cannot make an answered call look unanswered, or the reverse.
 */
export function keepReply(reply: ChatResponse, nextCall: number): KeptReply {
  const kept = reply.toolCalls.slice(0, MAX_TOOL_CALLS_PER_REPLY);
  let budget = MAX_REPLY_INPUT_CHARS;
  const toolCalls = kept.map((call, i): ToolCallRecord => {
    const json = call.input === undefined ? undefined : JSON.stringify(call.input);
    const size = json?.length ?? call.raw?.length ?? 0;
    const fits = size <= MAX_TOOL_INPUT_CHARS && size <= budget;
    if (fits) budget -= size;
    const record: ToolCallRecord = {
      id: `call_${nextCall + i}`,
      name: call.name.slice(0, 128),
      input: fits ? call.input : undefined,
    };
    if (call.id) record.providerId = call.id.slice(0, 256);
    if (!fits) record.oversized = size;
    else if (call.raw !== undefined && call.input === undefined) record.raw = call.raw.slice(0, 1024);
    return record;
  });
  return {
    text: cut(reply.text, MAX_REPLY_TEXT_CHARS),
    toolCalls,
    droppedToolCalls: reply.toolCalls.length - kept.length,
  };
}
