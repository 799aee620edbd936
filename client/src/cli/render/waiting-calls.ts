import type { WaitingCall } from "../../sdk/approvals.ts";
import { oneLine, printable } from "../output.ts";

/** The command that decides one waiting call. */
export function approveCommand(runId: string, toolCallId: string): string {
  return `edgeswarm runs approve ${runId} --call ${oneLine(toolCallId, 64)}`;
}

/**
 * One line per waiting call, as the live view and a refused `runs approve`
 * print them: its id, language, step (from 1), the files it writes first and
 * the start of its code. `width` bounds the code's part.
 * @example summaryLines(calls) // ["call_1  python, step 1: print('kept')", ...]
 */
export function summaryLines(calls: readonly WaitingCall[], width = 80): string[] {
  return calls.map((c) => {
    const files = c.files.length ? `, writes ${c.files.map((f) => oneLine(f.path, 60)).join(", ")}` : "";
    return `${oneLine(c.toolCallId, 64)}  ${c.language}, step ${c.step + 1}${files}: ${oneLine(c.code, width)}`;
  });
}

/**
 * What `runs show` prints for a run that waits: each call whole (its code,
 * and each file it writes first with its content, since both run), and the
 * command that decides it.
 */
export function detailLines(runId: string, calls: readonly WaitingCall[]): string[] {
  if (calls.length === 0) return [];
  const lines = [`waiting:    ${calls.length} ${calls.length === 1 ? "call waits" : "calls wait"} for a decision`];
  for (const c of calls) {
    lines.push(
      `  ${oneLine(c.toolCallId, 64)} (${c.language}, step ${c.step + 1}): ${approveCommand(runId, c.toolCallId)}`,
    );
    lines.push(...indent(c.code));
    for (const f of c.files) {
      lines.push(`    file it writes first: ${oneLine(f.path, 200)}`);
      lines.push(...indent(f.content, "      "));
    }
  }
  return lines;
}

function indent(text: string, by = "    "): string[] {
  return printable(text.replace(/\n$/, ""))
    .split("\n")
    .map((l) => `${by}${l}`);
}
