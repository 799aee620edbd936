/**
 * The runner's stdout protocol (runner.py): frames of 1 byte kind, a 4-byte
 * big-endian payload length, then the payload. Output frames carry raw bytes;
 * the others carry JSON. The runner sits next to hostile code, so anything
 * malformed is a protocol error, never a guess.
 */

/** Largest payload accepted; the runner sends at most 64 KiB of output or ~700 KiB of a file. */
export const MAX_FRAME_PAYLOAD = 1024 * 1024;

const HEADER_BYTES = 5;

/** The runner's report of how the user's program ended. */
export interface ExitInfo {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** null when the runner could not read the cgroup's OOM counter. */
  oomKilled: boolean | null;
  outputLimited: boolean;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  filesTruncated: boolean;
  durationMs: number;
}

/** One piece of a returned file; a file larger than one frame arrives as consecutive pieces, `more` on all but the last. */
export interface FileChunk {
  path: string;
  data: Buffer;
  more: boolean;
}

export type RunnerFrame =
  | { kind: "stdout"; data: Buffer }
  | { kind: "stderr"; data: Buffer }
  | { kind: "started"; pid: number }
  | { kind: "file"; file: FileChunk }
  | { kind: "exit"; exit: ExitInfo }
  | { kind: "error"; message: string };

/** The runner broke the protocol; the execution's result cannot be trusted. */
export class FrameProtocolError extends Error {
  override name = "FrameProtocolError";
}

/** Streaming parser: feed it Buffers as they arrive; it returns the frames they complete. */
export class FrameParser {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: FrameProtocolError | null = null;

  /** Bytes held that do not yet make a whole frame (non-zero at end of stream means a cut frame). */
  get pending(): number {
    return this.#buffered;
  }

  /** Parses what `chunk` completes. Throws FrameProtocolError, then again on every later call. */
  push(chunk: Uint8Array): RunnerFrame[] {
    if (this.#failed) throw this.#failed;
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.#buffered += chunk.length;
    }
    const frames: RunnerFrame[] = [];
    try {
      while (this.#buffered >= HEADER_BYTES) {
        const header = this.#peek(HEADER_BYTES);
        const kind = header.readUInt8(0);
        const length = header.readUInt32BE(1);
        if (kind < 1 || kind > 6) throw new FrameProtocolError(`unknown runner frame kind ${kind}`);
        if (length > MAX_FRAME_PAYLOAD) {
          throw new FrameProtocolError(`runner frame of ${length} bytes is over ${MAX_FRAME_PAYLOAD}`);
        }
        if (this.#buffered < HEADER_BYTES + length) break;
        const whole = this.#take(HEADER_BYTES + length);
        frames.push(decode(kind, whole.subarray(HEADER_BYTES)));
      }
    } catch (err) {
      this.#failed = err instanceof FrameProtocolError ? err : new FrameProtocolError(String(err));
      throw this.#failed;
    }
    return frames;
  }

  /** Joins the buffered chunks only as far as needed: a large frame is copied once, not once per chunk. */
  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined.subarray(0, n);
  }

  #take(n: number): Buffer {
    const out = this.#peek(n);
    const first = this.#chunks[0] as Buffer;
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    return out;
  }
}

function decode(kind: number, payload: Buffer): RunnerFrame {
  if (kind === 1) return { kind: "stdout", data: payload };
  if (kind === 2) return { kind: "stderr", data: payload };
  const json = parseJson(payload);
  switch (kind) {
    case 3:
      return { kind: "started", pid: num(json, "pid") };
    case 4: {
      const b64 = str(json, "b64");
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new FrameProtocolError("file frame: b64 is not base64");
      return {
        kind: "file",
        file: { path: str(json, "path"), data: Buffer.from(b64, "base64"), more: bool(json, "more") },
      };
    }
    case 5:
      return {
        kind: "exit",
        exit: {
          exitCode: nullable(json, "exit_code", num),
          signal: nullable(json, "signal", str),
          timedOut: bool(json, "timed_out"),
          oomKilled: nullable(json, "oom_killed", bool),
          outputLimited: bool(json, "output_limited"),
          stdoutTruncated: bool(json, "stdout_truncated"),
          stderrTruncated: bool(json, "stderr_truncated"),
          filesTruncated: bool(json, "files_truncated"),
          durationMs: num(json, "duration_ms"),
        },
      };
    default:
      return { kind: "error", message: str(json, "message") };
  }
}

type Json = Record<string, unknown>;

function parseJson(payload: Buffer): Json {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new FrameProtocolError("runner frame is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FrameProtocolError("runner frame is not a JSON object");
  }
  return value as Json;
}

function field<T>(json: Json, key: string, type: string, ok: (v: unknown) => v is T): T {
  const v = json[key];
  if (!ok(v)) throw new FrameProtocolError(`runner frame field ${key} must be a ${type}`);
  return v;
}

const num = (json: Json, key: string): number =>
  field(json, key, "finite number", (v): v is number => typeof v === "number" && Number.isFinite(v));
const str = (json: Json, key: string): string => field(json, key, "string", (v): v is string => typeof v === "string");
const bool = (json: Json, key: string): boolean =>
  field(json, key, "boolean", (v): v is boolean => typeof v === "boolean");

function nullable<T>(json: Json, key: string, read: (json: Json, key: string) => T): T | null {
  return json[key] === null ? null : read(json, key);
}
