import { isUtf8 } from "node:buffer";
import {
  type ExecutionOutcome,
  type ExecutionStatus,
  type Limits,
  type WorkspaceFile,
  WorkspacePath,
} from "@edgeswarm/shared";
import type { ExitInfo, FileChunk } from "./frames.ts";

/** The limits on returned files. */
export type FileCaps = Pick<Limits, "returnedFiles" | "returnedFileBytes" | "returnedTotalBytes">;

/**
 * Assembles the runner's file frames into workspace files, re-checking every
 * cap and path: the runner's word is not trusted for what crosses the wire.
 */
export class ReturnedFiles {
  readonly #caps: FileCaps;
  #files: Entry[] = [];
  #open: Entry | null = null;
  #kept = 0;
  #total = 0;
  /** True once a file was dropped for a cap or an unusable path. */
  truncated = false;

  constructor(caps: FileCaps) {
    this.#caps = caps;
  }

  get caps(): FileCaps {
    return this.#caps;
  }

  add(chunk: FileChunk): void {
    let file = this.#open;
    if (!file || file.path !== chunk.path) {
      if (file) this.#drop(file); // a file cut short by another one
      file = { path: chunk.path, parts: [], bytes: 0, dropped: false };
      this.#files.push(file);
      this.#kept += 1;
      if (this.#kept > this.#caps.returnedFiles || !WorkspacePath.safeParse(file.path).success) this.#drop(file);
    }
    this.#open = chunk.more ? file : null;
    if (file.dropped) return;
    file.parts.push(chunk.data);
    file.bytes += chunk.data.length;
    this.#total += chunk.data.length;
    if (file.bytes > this.#caps.returnedFileBytes || this.#total > this.#caps.returnedTotalBytes) this.#drop(file);
  }

  /**
   * Complete files: as UTF-8 text when their bytes are valid UTF-8 and JSON
   * carries the text in no more characters than it would the base64 (control
   * characters take six each), else as base64.
   */
  list(): WorkspaceFile[] {
    if (this.#open) this.#drop(this.#open);
    this.#open = null;
    return this.#files
      .filter((f) => !f.dropped)
      .map((f) => {
        const bytes = Buffer.concat(f.parts, f.bytes);
        const base64Chars = Math.ceil(bytes.length / 3) * 4;
        if (isUtf8(bytes)) {
          const text = bytes.toString("utf8");
          if (JSON.stringify(text).length - 2 <= base64Chars) return { path: f.path, content: text, encoding: "utf8" };
        }
        return { path: f.path, content: bytes.toString("base64"), encoding: "base64" };
      });
  }

  #drop(file: Entry): void {
    if (file.dropped) return;
    file.dropped = true;
    file.parts = [];
    this.#kept -= 1;
    this.#total -= file.bytes;
    this.truncated = true;
  }
}

interface Entry {
  path: string;
  parts: Buffer[];
  bytes: number;
  dropped: boolean;
}

/** An outcome with nothing but a status (cancelled, backstop timeout, error). */
export function bareOutcome(status: ExecutionStatus, durationMs: number, message?: string): ExecutionOutcome {
  return {
    status,
    exitCode: null,
    signal: status === "error" ? null : "SIGKILL",
    durationMs: Math.max(0, Math.round(durationMs)),
    truncated: { stdout: false, stderr: false },
    files: [],
    ...(message === undefined ? {} : { error: { code: "sandbox_error" as const, message } }),
  };
}

/**
 * The outcome the runner reported. An OOM kill explains whatever followed it
 * (a killed child, a parent waiting until the deadline), so it wins.
 */
export function outcomeFromExit(
  exit: ExitInfo,
  oomKilled: boolean,
  truncated: { stdout: boolean; stderr: boolean },
  files: ReturnedFiles,
): ExecutionOutcome {
  const status: ExecutionStatus = oomKilled
    ? "oom_killed"
    : exit.timedOut
      ? "timed_out"
      : exit.outputLimited || truncated.stdout || truncated.stderr
        ? "output_limited"
        : exit.exitCode === 0
          ? "succeeded"
          : "failed";
  const list = files.list();
  const outcome: ExecutionOutcome = {
    status,
    exitCode: exit.exitCode,
    signal: exit.signal,
    durationMs: Math.max(0, Math.round(exit.durationMs)),
    truncated,
    files: list,
  };
  if (exit.filesTruncated || files.truncated) {
    outcome.error = {
      code: "files_truncated",
      message:
        `some workspace files were not returned: at most ${files.caps.returnedFiles} files, ` +
        `${files.caps.returnedFileBytes} bytes each and ${files.caps.returnedTotalBytes} in all, with plain relative paths`,
    };
  }
  return outcome;
}
