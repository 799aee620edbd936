import {
  type ExecFile,
  type ExecutionOutcome,
  type Limits,
  MAX_REPORT_CHARS,
  type WireOutcome,
} from "@edgeswarm/shared";

/** Bytes of `text` in UTF-8, without encoding it. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Decoded bytes of a base64 piece (padding only ever ends a file's last piece). */
function base64Bytes(data: string): number {
  const pad = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  return Math.floor((data.length * 3) / 4) - pad;
}

function cut(text: string, max = MAX_REPORT_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** What becomes of one piece of a returned file. */
export type FileVerdict = "forward" | "drop";

/**
 * The limits an execution was leased with, held against what its agent
 * sends: output past `outputBytes` is cut and marked truncated, returned files
 * past their count and sizes are dropped, and texts are cut. The agent
 * enforces all of this itself; this is the Worker not taking its word for it.
 */
export class LeaseBounds {
  readonly #limits: Limits;
  readonly #chars = { stdout: 0, stderr: 0 };
  readonly truncated = { stdout: false, stderr: false };
  /** A file was dropped here, or a piece came out of order. */
  filesDropped = false;
  #files = new Set<string>();
  #totalBytes = 0;
  #open: { path: string; encoding: string; bytes: number; dropped: boolean } | null = null;

  constructor(limits: Limits) {
    this.#limits = limits;
  }

  /**
   * The part of `data` that fits in the stream's `outputBytes`; "" once it is
   * full. Counted in UTF-16 units: the agent decodes at most `outputBytes`
   * bytes, and decoding never makes more units than bytes (an invalid byte
   * becomes one U+FFFD), so an honest agent's output always fits.
   */
  output(stream: "stdout" | "stderr", data: string): string {
    const room = this.#limits.outputBytes - this.#chars[stream];
    if (data.length <= room) {
      this.#chars[stream] += data.length;
      return data;
    }
    this.truncated[stream] = true;
    let end = Math.max(0, room);
    const last = data.charCodeAt(end - 1);
    if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1; // never half a surrogate pair
    this.#chars[stream] += end;
    return data.slice(0, end);
  }

  /**
   * Whether a file piece goes on to the caller. A file that passes a cap, a
   * path seen twice, or a piece of another file before the last one ended,
   * drops the file (the caller is told to forget its pieces).
   */
  file(piece: Pick<ExecFile, "path" | "encoding" | "data" | "more">): FileVerdict {
    let open = this.#open;
    if (open && (open.path !== piece.path || open.encoding !== piece.encoding)) {
      this.#drop(open); // cut short by another file
      open = null;
    }
    if (!open) {
      open = { path: piece.path, encoding: piece.encoding, bytes: 0, dropped: false };
      if (this.#files.has(piece.path) || this.#files.size >= this.#limits.returnedFiles) this.#drop(open);
      else this.#files.add(piece.path);
    }
    this.#open = piece.more ? open : null;
    if (open.dropped) return "drop";
    const bytes = piece.encoding === "base64" ? base64Bytes(piece.data) : utf8Bytes(piece.data);
    open.bytes += bytes;
    this.#totalBytes += bytes;
    if (open.bytes > this.#limits.returnedFileBytes || this.#totalBytes > this.#limits.returnedTotalBytes) {
      this.#drop(open);
      return "drop";
    }
    return "forward";
  }

  #drop(file: { path: string; bytes: number; dropped: boolean }): void {
    if (file.dropped) return;
    file.dropped = true;
    this.#totalBytes -= file.bytes;
    this.#files.delete(file.path);
    this.filesDropped = true;
  }

  /** The path of a file still being sent, which an ending execution leaves incomplete. */
  get unfinished(): string | null {
    return this.#open && !this.#open.dropped ? this.#open.path : null;
  }

  /** The agent's outcome, held to the lease: its texts cut, and what was cut here marked. */
  outcome(wire: WireOutcome): ExecutionOutcome {
    if (this.#open) this.#drop(this.#open);
    this.#open = null;
    const truncated = {
      stdout: wire.truncated.stdout || this.truncated.stdout,
      stderr: wire.truncated.stderr || this.truncated.stderr,
    };
    const cutHere = this.truncated.stdout || this.truncated.stderr;
    const status =
      cutHere && (wire.status === "succeeded" || wire.status === "failed") ? "output_limited" : wire.status;
    const outcome: ExecutionOutcome = { ...wire, status, truncated, files: [] };
    if (wire.error) outcome.error = { code: wire.error.code, message: cut(wire.error.message) };
    if (this.filesDropped && !outcome.error) {
      outcome.error = {
        code: "files_truncated",
        message:
          `some workspace files were not returned: at most ${this.#limits.returnedFiles} files, ` +
          `${this.#limits.returnedFileBytes} bytes each and ${this.#limits.returnedTotalBytes} in all`,
      };
    }
    return outcome;
  }
}
