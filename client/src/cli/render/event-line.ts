import type { RunEvent } from "@edgeswarm/shared";
import { duration, oneLine, printable } from "../output.ts";
import { stopLine } from "./team.ts";
import { approveCommand } from "./waiting-calls.ts";

/** Files an execution.finished line names before it says how many more. */
const NAMED_FILES = 10;

/**
 * One plain line for one run event, as `run` prints without a terminal and
 * `runs logs` prints always: `#<seq> <type>  <what happened>`. Steps and
 * iterations count from 1 here (the API counts steps from 0).
 *
 * An `execution.output` event is the exception: its data is printed whole,
 * one line per line of output, each under the same head, so `grep` finds
 * a line with its call and stream:
 * `#12 execution.output  call_1 stdout| <the program's line>`.
 */
export function eventLine(e: RunEvent, runId: string): string {
  if (e.type === "execution.output") return outputLines(e);
  return `#${e.seq} ${e.type}  ${detail(e, runId)}`;
}

function outputLines(e: Extract<RunEvent, { type: "execution.output" }>): string {
  const { toolCallId, stream, data, cut } = e.payload;
  const head = `#${e.seq} ${e.type}  ${oneLine(toolCallId, 40)}`;
  // A piece often ends with its newline; that is not one more, empty line.
  const lines = (data.endsWith("\n") ? data.slice(0, -1) : data).split("\n");
  const printed = data === "" ? [] : lines.map((line) => `${head} ${stream}| ${printable(line)}`);
  if (cut) printed.push(`${head} cut: the log keeps no more of its output; execution.finished has the rest`);
  return printed.join("\n");
}

function detail(e: RunEvent, runId: string): string {
  switch (e.type) {
    case "run.created":
      return `task: ${oneLine(e.payload.task, 100)}`;
    case "plan.created": {
      const steps = e.payload.steps.map((s, i) => `${i + 1}) ${oneLine(s.goal, 60)}`).join("; ");
      return e.payload.skipped ? "no planner: the task is the one step" : `${e.payload.steps.length} steps: ${steps}`;
    }
    case "step.started":
      return `step ${e.payload.step + 1}`;
    case "coder.replied": {
      const tools = e.payload.toolCalls.map((c) => c.name).join(", ") || "no tool call";
      const { inputTokens, outputTokens } = e.payload.usage;
      return `step ${e.payload.step + 1}: ${tools} (${inputTokens} in, ${outputTokens} out tokens)`;
    }
    case "tool.rejected":
      return `${e.payload.name}: ${oneLine(e.payload.message, 120)}`;
    case "approval.requested": {
      const { step, language, toolCallId } = e.payload;
      return `step ${step + 1}: ${language} code of ${oneLine(toolCallId, 64)} waits for approval (${approveCommand(runId, toolCallId)})`;
    }
    case "approval.decided": {
      const { approve, toolCallId, reason } = e.payload;
      return `${approve ? "approved" : "denied"} ${oneLine(toolCallId, 64)}${!approve && reason ? `: ${oneLine(reason)}` : ""}`;
    }
    case "execution.started":
      return `${e.payload.toolCallId} runs on ${e.payload.agentId} (${e.payload.executionId})`;
    case "execution.output":
      return "(printed by outputLines)"; // eventLine never asks: it prints output lines whole
    case "execution.finished": {
      const p = e.payload;
      const exit = p.exitCode === null ? (p.signal ?? "") : `exit ${p.exitCode}`;
      const why = p.error ? `: ${p.error.code}` : "";
      const files = p.files.length ? `; wrote ${fileNames(p.files)}` : "";
      return `iteration ${p.iteration}: ${p.language} ${p.status}${exit ? ` (${exit})` : ""} in ${duration(p.durationMs)}${why}${files}`;
    }
    case "execution.retry":
      return `attempt ${e.payload.attempt} after ${e.payload.reason}, in ${duration(e.payload.delayMs)}`;
    case "model.retry":
      return `${e.payload.role} attempt ${e.payload.attempt} in ${duration(e.payload.delayMs)}: ${oneLine(e.payload.message)}`;
    case "step.finished":
      return `step ${e.payload.step + 1} ${e.payload.verdict}: ${oneLine(e.payload.summary, 100)}`;
    case "run.finished": {
      const { status, reason, message, stoppedBy } = e.payload;
      const by = stoppedBy?.length ? `: stopped by ${oneLine(stopLine(stoppedBy), 160)}` : "";
      return `${status}${reason && reason !== status ? ` (${reason})` : ""}${message ? `: ${oneLine(message, 120)}` : ""}${by}`;
    }
    case "participant.replied": {
      const { speaker, toolCalls, text, usage } = e.payload;
      const said = text ? `: ${oneLine(text, 80)}` : "";
      return `${oneLine(speaker, 32)} calls ${toolCalls.map((c) => oneLine(c.name, 40)).join(", ")}${said} (${tokens(usage)})`;
    }
    case "team.message": {
      const { speaker, handoff, text, toolCalls, usage } = e.payload;
      const to = handoff ? ` → ${handoff}` : "";
      // The handoff's own call is the arrow already.
      const shown = toolCalls.filter((c) => !handoff || c.name !== `transfer_to_${handoff}`);
      const calls = shown.length ? ` [${shown.map(callOutcome).join("; ")}]` : "";
      const used = usage ? ` (${tokens(usage)})` : "";
      return `${speaker}${to}: ${oneLine(text, 120)}${calls}${used}`;
    }
    case "team.selected": {
      const p = e.payload;
      if (!p.speaker)
        return `selector attempt ${p.attempt} named no one of ${p.candidates.join(", ")}: ${oneLine(p.said, 80)}`;
      if (p.by === "fallback") return `no valid pick after ${p.attempt - 1} attempts; next in turn: ${p.speaker}`;
      return `selector picks ${p.speaker} (attempt ${p.attempt})`;
    }
    case "team.ledger": {
      const l = e.payload;
      if (l.kind === "task") return `${l.replan ? "re-plan" : "task ledger"}: ${oneLine(l.plan, 120)}`;
      if (l.isRequestSatisfied.answer) return `request satisfied: ${oneLine(l.isRequestSatisfied.reason, 100)}`;
      const stalled = l.isProgressBeingMade.answer && !l.isInLoop.answer ? "" : ", stalled";
      return `progress: next ${l.speaker} (stalls ${l.stalls}${stalled}): ${oneLine(l.instruction.answer, 100)}`;
    }
    case "run.continued":
      return `continued: ${oneLine(e.payload.text, 120)}`;
  }
}

function tokens(usage: { inputTokens: number; outputTokens: number }): string {
  return `${usage.inputTokens} in, ${usage.outputTokens} out tokens`;
}

/** One tool call of a team message, as the others see it: `run_code call_1 succeeded (exit 0)`. */
function callOutcome(c: { id: string; name: string; status: string; exitCode: number | null }): string {
  const exit = c.exitCode === null ? "" : ` (exit ${c.exitCode})`;
  return `${oneLine(c.name, 40)} ${oneLine(c.id, 40)} ${oneLine(c.status, 32)}${exit}`;
}

function fileNames(files: string[]): string {
  const named = files.slice(0, NAMED_FILES).map((f) => oneLine(f, 100));
  const more = files.length > NAMED_FILES ? ` and ${files.length - NAMED_FILES} more` : "";
  return `${named.join(", ")}${more}`;
}
