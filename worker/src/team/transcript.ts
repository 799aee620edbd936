import { ORCHESTRATOR_SPEAKER, type ToolCallSummary, USER_SPEAKER } from "@edgeswarm/shared";
import type { CallOutcome, RunState } from "../run/state.ts";
import { HANDOFF_PREFIX } from "./loop.ts";
import type { TeamRecord, TeamState } from "./state.ts";

/** Characters of a call's stdout head and tail, and of its stderr's tail, that its summary keeps. */
const HEAD = 600;
const TAIL = 600;
const STDERR_TAIL = 800;
/** Most characters of the conversation that a prompt carries; older messages are shortened first. */
export const TRANSCRIPT_CHARS = 200_000;
/** What a shortened message keeps. */
const SHORT_CHARS = 400;

function headTail(text: string): string {
  if (text.length <= HEAD + TAIL) return text;
  return `${text.slice(0, HEAD)}\n…(${text.length - HEAD - TAIL} characters cut)…\n${text.slice(-TAIL)}`;
}

function tail(text: string, n: number): string {
  return text.length <= n ? text : `…${text.slice(-n)}`;
}

function summarize(id: string, name: string, outcome: CallOutcome | undefined): ToolCallSummary {
  // A model names its tools: the summary keeps no more of a name than its schema allows.
  const base = { id, name: name.slice(0, 64), exitCode: null, stdout: "", stderr: "", files: [] };
  if (name.startsWith(HANDOFF_PREFIX)) return { ...base, status: "handoff" };
  if (!outcome) return { ...base, status: "unanswered" };
  switch (outcome.kind) {
    case "executed": {
      const r = outcome.result;
      return {
        ...base,
        status: r.status,
        exitCode: r.exitCode,
        stdout: headTail(r.stdout),
        stderr: tail(r.error ? `${r.stderr}\n${r.error.message}`.trim() : r.stderr, STDERR_TAIL),
        files: r.files.slice(0, 10).map((f) => f.slice(0, 1024)),
      };
    }
    case "rejected":
      return { ...base, status: "rejected", stderr: tail(outcome.message, STDERR_TAIL) };
    case "denied":
      return { ...base, status: "denied", stderr: tail(outcome.reason ?? "", STDERR_TAIL) };
  }
}

/** The current turn's tool calls (its last 16), each summarized for the other participants. */
export function turnSummaries(s: RunState): ToolCallSummary[] {
  const out: ToolCallSummary[] = [];
  for (const t of s.turns) {
    if (t.kind !== "reply") continue;
    for (const c of t.reply.toolCalls) out.push(summarize(c.id, c.name, s.outcomes.get(c.id)));
  }
  return out.slice(-16);
}

function describeCall(c: ToolCallSummary): string {
  if (c.status === "handoff") return "";
  const exit = c.exitCode !== null ? `, exit code ${c.exitCode}` : "";
  const lines = [`  ${c.name} (${c.id}): ${c.status}${exit}`];
  if (c.files.length) lines.push(`    files written: ${c.files.join(", ")}`);
  if (c.stdout) lines.push(`    stdout:\n${indent(c.stdout)}`);
  if (c.stderr) lines.push(`    stderr:\n${indent(c.stderr)}`);
  return lines.join("\n");
}

const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n");

function describeMessage(m: TeamRecord, short: boolean): string {
  const text = short && m.text.length > SHORT_CHARS ? `${m.text.slice(0, SHORT_CHARS)}…` : m.text;
  const head = `${m.speaker}${m.handoff ? ` (hands off to ${m.handoff})` : ""}:`;
  const calls = short ? "" : m.toolCalls.map(describeCall).filter(Boolean).join("\n");
  return [text ? `${head} ${text}` : head, calls].filter(Boolean).join("\n");
}

/**
 * The team's conversation as one text, oldest first: the task turns, each
 * message with its speaker and its tool calls' summaries, and the
 * orchestrator's instructions where they were given. Bounded: past
 * TRANSCRIPT_CHARS the oldest messages are shortened, then left out.
 */
export function transcript(s: RunState, t: TeamState): string {
  const entries: { full: string; short: string }[] = [];
  const said = (text: string) => entries.push({ full: text, short: text.slice(0, SHORT_CHARS) });
  const task = `${USER_SPEAKER}: ${s.tasks[0] ?? s.created?.task ?? ""}`;
  const history = s.created?.history?.length ?? 0;
  if (history === 0) said(task);
  t.messages.forEach((m, i) => {
    const instruction = t.instructions.get(i);
    if (instruction) said(`${ORCHESTRATOR_SPEAKER} (to ${instruction.to}): ${instruction.text}`);
    entries.push({ full: describeMessage(m, false), short: describeMessage(m, true) });
    if (i === history - 1) said(task);
  });
  const pending = t.instructions.get(t.messages.length);
  if (pending) said(`${ORCHESTRATOR_SPEAKER} (to ${pending.to}): ${pending.text}`);

  const texts = entries.map((e) => e.full);
  let size = texts.reduce((n, e) => n + e.length + 2, 0);
  for (let i = 0; i < texts.length && size > TRANSCRIPT_CHARS; i++) {
    size -= (texts[i]?.length ?? 0) - (entries[i]?.short.length ?? 0);
    texts[i] = entries[i]?.short ?? "";
  }
  let dropped = 0;
  while (size > TRANSCRIPT_CHARS && texts.length > 1) {
    size -= (texts.shift()?.length ?? 0) + 2;
    dropped++;
  }
  return (dropped ? [`(${dropped} earlier entries left out)`, ...texts] : texts).join("\n\n");
}

/** The team's members, one line each, for the prompts. */
export function roster(t: TeamState): string {
  return t.config.participants
    .map((p) => `- ${p.name} (${p.role})${p.description ? `: ${p.description}` : ""}`)
    .join("\n");
}
