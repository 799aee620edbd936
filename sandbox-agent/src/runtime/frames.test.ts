import { describe, expect, it } from "vitest";
import { FrameParser, FrameProtocolError, MAX_FRAME_PAYLOAD, type RunnerFrame } from "./frames.ts";

function frame(kind: number, payload: Buffer | string | object): Buffer {
  const body = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload));
  const header = Buffer.alloc(5);
  header.writeUInt8(kind, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

const EXIT = {
  exit_code: 0,
  signal: null,
  timed_out: false,
  oom_killed: null,
  output_limited: false,
  stdout_truncated: false,
  stderr_truncated: false,
  files_truncated: true,
  duration_ms: 12.5,
};

const STREAM = Buffer.concat([
  frame(3, { pid: 7 }),
  frame(1, Buffer.from([0x68, 0x69, 0xff])),
  frame(2, "err"),
  frame(1, Buffer.alloc(0)),
  frame(4, { path: "out/a.bin", b64: Buffer.from([1, 2, 3]).toString("base64"), more: false }),
  frame(5, EXIT),
]);

const EXPECTED: RunnerFrame[] = [
  { kind: "started", pid: 7 },
  { kind: "stdout", data: Buffer.from([0x68, 0x69, 0xff]) },
  { kind: "stderr", data: Buffer.from("err") },
  { kind: "stdout", data: Buffer.alloc(0) },
  { kind: "file", file: { path: "out/a.bin", data: Buffer.from([1, 2, 3]), more: false } },
  {
    kind: "exit",
    exit: {
      exitCode: 0,
      signal: null,
      timedOut: false,
      oomKilled: null,
      outputLimited: false,
      stdoutTruncated: false,
      stderrTruncated: false,
      filesTruncated: true,
      durationMs: 12.5,
    },
  },
];

describe("FrameParser", () => {
  it("parses every kind from one buffer", () => {
    const parser = new FrameParser();
    expect(parser.push(STREAM)).toEqual(EXPECTED);
    expect(parser.pending).toBe(0);
  });

  it("gives the same frames when fed one byte at a time", () => {
    const parser = new FrameParser();
    const frames: RunnerFrame[] = [];
    for (const byte of STREAM) frames.push(...parser.push(Buffer.from([byte])));
    expect(frames).toEqual(EXPECTED);
  });

  it("holds a partial frame and counts it as pending", () => {
    const parser = new FrameParser();
    const whole = frame(1, "hello");
    expect(parser.push(whole.subarray(0, 7))).toEqual([]);
    expect(parser.pending).toBe(7);
    expect(parser.push(whole.subarray(7))).toEqual([{ kind: "stdout", data: Buffer.from("hello") }]);
    expect(parser.pending).toBe(0);
  });

  it("parses a runner error frame", () => {
    expect(new FrameParser().push(frame(6, { message: "node is not installed" }))).toEqual([
      { kind: "error", message: "node is not installed" },
    ]);
  });

  it("accepts a frame of exactly the maximum size", () => {
    const big = Buffer.alloc(MAX_FRAME_PAYLOAD, 0x61);
    const [parsed] = new FrameParser().push(frame(1, big));
    expect(parsed).toMatchObject({ kind: "stdout" });
    expect((parsed as { data: Buffer }).data.length).toBe(MAX_FRAME_PAYLOAD);
  });

  it("refuses a frame over 1 MiB from its header alone, and stays failed", () => {
    const parser = new FrameParser();
    const header = Buffer.from([1, 0, 0x10, 0, 1]); // 1 MiB + 1
    expect(() => parser.push(header)).toThrow(FrameProtocolError);
    expect(() => parser.push(frame(1, "fine"))).toThrow(/over 1048576/);
  });

  it.each([0, 7, 255])("refuses unknown kind %i", (kind) => {
    expect(() => new FrameParser().push(frame(kind, "x"))).toThrow(`unknown runner frame kind ${kind}`);
  });

  it("refuses a JSON frame that is not JSON or has the wrong shape", () => {
    expect(() => new FrameParser().push(frame(3, "{nope"))).toThrow("not valid JSON");
    expect(() => new FrameParser().push(frame(3, "[1]"))).toThrow("not a JSON object");
    expect(() => new FrameParser().push(frame(3, { pid: "7" }))).toThrow("pid must be a finite number");
    expect(() => new FrameParser().push(frame(5, { ...EXIT, timed_out: 1 }))).toThrow("timed_out must be a boolean");
    expect(() => new FrameParser().push(frame(4, { path: "a", b64: "!!", more: false }))).toThrow("not base64");
  });
});
