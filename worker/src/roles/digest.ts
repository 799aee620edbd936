import type { ToolCallRecord } from "@edgeswarm/shared";
import type { CallOutcome } from "../run/state.ts";

/** Lines of a traceback a digest keeps. */
const TRACEBACK_LINES = 3;
/** Characters of a rejection's message, or of the traceback's last lines, a digest keeps. */
const MESSAGE_CHARS = 300;
/** Most paths of written files a digest names. */
const MAX_PATHS = 10;

const size = (text: string) => `${text.length} characters`;

/**
 * A short stand-in for an old tool result: the status, the exit code, the
 * last lines of any traceback, and sizes. The coder has seen the whole result
 * turns ago; the run's log still holds it.
 */
export function digestOutcome(o: CallOutcome): string {
  switch (o.kind) {
    case "executed": {
      const r = o.result;
      const parts = [
        `(digest of an earlier result) status: ${r.status}${r.exitCode !== null ? `, exit code ${r.exitCode}` : ""}`,
        `stdout: ${size(r.stdout)}, stderr: ${size(r.stderr)}`,
      ];
      if (r.files.length) {
        const more = r.files.length > MAX_PATHS ? ` and ${r.files.length - MAX_PATHS} more` : "";
        parts.push(`files written: ${r.files.slice(0, MAX_PATHS).join(", ")}${more}`);
      }
      // The last lines, and no more than MESSAGE_CHARS of them: a line may be as long as the output.
      const tb = r.stderr.trimEnd().split("\n").slice(-TRACEBACK_LINES).join("\n").slice(-MESSAGE_CHARS);
      if (r.status !== "succeeded" && tb) parts.push(`stderr ended:\n${tb}`);
      if (r.error) parts.push(`error: ${r.error.code}`);
      return parts.join("\n");
    }
    case "rejected":
      return `(digest) rejected: ${o.message.length > MESSAGE_CHARS ? `${o.message.slice(0, MESSAGE_CHARS)}…` : o.message}`;
    case "denied":
      return `(digest) a human reviewer denied running this code${o.reason ? `: ${o.reason.slice(0, MESSAGE_CHARS)}` : ""}`;
  }
}

/**
 * An old run_code call as the coder's context keeps it: the code as sent, but
 * each file's content replaced by its size (the file is in the workspace).
 */
export function digestCall(call: ToolCallRecord): ToolCallRecord {
  const input = call.input as { files?: unknown } | undefined;
  if (call.name !== "run_code" || !input || !Array.isArray(input.files)) return { ...call };
  const files = input.files.map((f: { path?: unknown; content?: unknown }) =>
    typeof f?.content === "string"
      ? { ...f, content: `(${f.content.length} characters; the file is in the workspace)` }
      : f,
  );
  return { ...call, input: { ...input, files } };
}
