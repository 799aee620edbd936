import type { RunView, StopCondition } from "@edgeswarm/shared";
import { oneLine } from "../output.ts";

/**
 * What ended a team, in words, as `run`, `runs show` and the event lines
 * print it.
 * @example stopLine([{ textMention: "APPROVE", sources: ["reviewer"] }]) // 'textMention "APPROVE" from reviewer'
 */
export function stopLine(conditions: readonly StopCondition[]): string {
  return conditions.map(condition).join("; ");
}

function condition(c: StopCondition): string {
  if ("requestSatisfied" in c) return `request satisfied: ${oneLine(c.requestSatisfied, 120)}`;
  if ("any" in c) return `any of (${stopLine(c.any)})`;
  if ("all" in c) return `all of (${stopLine(c.all)})`;
  if ("textMention" in c) {
    const from = c.sources?.length ? ` from ${c.sources.join(", ")}` : "";
    return `textMention ${JSON.stringify(oneLine(c.textMention, 60))}${from}`;
  }
  if ("handoff" in c) return `handoff to ${c.handoff}`;
  if ("functionCall" in c) return `functionCall ${oneLine(c.functionCall, 64)}`;
  if ("maxMessages" in c) return `maxMessages ${c.maxMessages}`;
  if ("tokenUsage" in c) return `tokenUsage ${c.tokenUsage}`;
  return `timeoutMs ${c.timeoutMs}`;
}

/** The lines `runs show` adds for a team run: the team, who speaks next, the tokens each used. */
export function teamLines(run: RunView): string[] {
  if (!run.team) return [];
  const { kind, messages, next } = run.team;
  const lines = [
    `team:       ${oneLine(kind, 32)}, ${messages} message${messages === 1 ? "" : "s"}${next ? `, next: ${oneLine(next, 32)}` : ""}`,
  ];
  const usage = Object.entries(run.usage.team ?? {});
  if (usage.length > 0) {
    const each = usage.map(([who, u]) => `${oneLine(who, 32)} ${u.inputTokens} in, ${u.outputTokens} out`);
    lines.push(`by member:  ${each.join("; ")}`);
  }
  if (run.result?.stoppedBy?.length) lines.push(`stopped by: ${stopLine(run.result.stoppedBy)}`);
  return lines;
}
