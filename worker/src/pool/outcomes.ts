import { type ExecutionOutcome, errorOutcome } from "@edgeswarm/shared";
import type { PoolEvent } from "./rpc.ts";

/** Characters of a returned file per `file` event. */
export const FILE_PIECE_CHARS = 256 * 1024;

/** A file's content as `file` events of at most FILE_PIECE_CHARS, never splitting a surrogate pair. */
export function filePieces(path: string, encoding: "utf8" | "base64", content: string): PoolEvent[] {
  const pieces: PoolEvent[] = [];
  let start = 0;
  do {
    let end = Math.min(content.length, start + FILE_PIECE_CHARS);
    const last = content.charCodeAt(end - 1);
    if (end < content.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    pieces.push({ type: "file", path, encoding, data: content.slice(start, end), more: end < content.length });
    start = end;
  } while (start < content.length);
  return pieces;
}

/** An outcome for an execution that never reported its own. */
export function failedOutcome(
  code: "agent_lost" | "execution_lost" | "sandbox_error",
  message: string,
): ExecutionOutcome {
  return errorOutcome(code, message);
}

/** The outcome of an execution ended before it reported: cancelled by its caller, or (with `error`) for why. */
export function cancelledOutcome(error?: ExecutionOutcome["error"]): ExecutionOutcome {
  return {
    status: "cancelled",
    exitCode: null,
    signal: null,
    durationMs: 0,
    truncated: { stdout: false, stderr: false },
    files: [],
    ...(error && { error }),
  };
}
