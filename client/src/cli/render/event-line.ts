import type { RunEvent } from "@edgeswarm/shared";
import { duration, oneLine } from "../output.ts";

/**
 * One plain line for one run event, as `run` prints without a terminal and
 * `runs logs` prints always: `#<seq> <type>  <what happened>`. Steps and
 * iterations count from 1 here (the API counts steps from 0).
 */
export function eventLine(e: RunEvent, runId: string): string {
  return `#${e.seq} ${e.type}  ${detail(e, runId)}`;
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
    case "approval.requested":
      return `step ${e.payload.step + 1}: ${e.payload.language} code waits for approval (edgeswarm runs approve ${runId})`;
    case "approval.decided":
      return e.payload.approve ? "approved" : `denied${e.payload.reason ? `: ${oneLine(e.payload.reason)}` : ""}`;
    case "execution.started":
      return `${e.payload.toolCallId} runs on ${e.payload.agentId} (${e.payload.executionId})`;
    case "execution.output":
      return `${e.payload.stream}: ${oneLine(e.payload.data, 120)}${e.payload.cut ? " (the log keeps no more)" : ""}`;
    case "execution.finished": {
      const p = e.payload;
      const exit = p.exitCode === null ? (p.signal ?? "") : `exit ${p.exitCode}`;
      const why = p.error ? `: ${p.error.code}` : "";
      return `iteration ${p.iteration}: ${p.language} ${p.status}${exit ? ` (${exit})` : ""} in ${duration(p.durationMs)}${why}`;
    }
    case "execution.retry":
      return `attempt ${e.payload.attempt} after ${e.payload.reason}, in ${duration(e.payload.delayMs)}`;
    case "model.retry":
      return `${e.payload.role} attempt ${e.payload.attempt} in ${duration(e.payload.delayMs)}: ${oneLine(e.payload.message)}`;
    case "step.finished":
      return `step ${e.payload.step + 1} ${e.payload.verdict}: ${oneLine(e.payload.summary, 100)}`;
    case "run.finished": {
      const { status, reason, message } = e.payload;
      return `${status}${reason && reason !== status ? ` (${reason})` : ""}${message ? `: ${oneLine(message, 120)}` : ""}`;
    }
  }
}
