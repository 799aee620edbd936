import { DEFAULT_LIMITS, type WireOutcome } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { LeaseBounds, utf8Bytes } from "./bounds.ts";

const wire = (over: Partial<WireOutcome> = {}): WireOutcome => ({
  status: "succeeded",
  exitCode: 0,
  signal: null,
  durationMs: 5,
  truncated: { stdout: false, stderr: false },
  ...over,
});

describe("UTF-8 lengths without encoding", () => {
  it("counts bytes as TextEncoder would", () => {
    for (const text of ["", "abc", "ünï", "✓✓", "😀x", "a\u0000b", "\ud800 lone"]) {
      expect(utf8Bytes(text), text).toBe(new TextEncoder().encode(text).length);
    }
  });
});

describe("a lease's bounds", () => {
  it("lets an honest agent's decoded output through whole: U+FFFD for a cut character fits", () => {
    const bounds = new LeaseBounds({ ...DEFAULT_LIMITS, outputBytes: 1025 });
    const decoded = `${"\u00e9".repeat(512)}\ufffd`; // 1025 bytes from the program, 1027 once decoded
    expect(bounds.output("stdout", decoded)).toBe(decoded);
    expect(bounds.truncated.stdout).toBe(false);
  });

  it("cuts output at outputBytes per stream, marks it truncated and the status output_limited", () => {
    const bounds = new LeaseBounds({ ...DEFAULT_LIMITS, outputBytes: 10 });
    expect(bounds.output("stdout", "12345678")).toBe("12345678");
    expect(bounds.output("stdout", "9abc")).toBe("9a");
    expect(bounds.output("stdout", "more")).toBe("");
    expect(bounds.output("stderr", "0123456789")).toBe("0123456789");
    const outcome = bounds.outcome(wire());
    expect(outcome.truncated).toEqual({ stdout: true, stderr: false });
    expect(outcome.status).toBe("output_limited");
  });

  it("drops files past the count, a file past its size, and the rest past the total", () => {
    const bounds = new LeaseBounds({
      ...DEFAULT_LIMITS,
      returnedFiles: 2,
      returnedFileBytes: 4,
      returnedTotalBytes: 6,
    });
    const piece = (path: string, data: string, more = false) => ({ path, encoding: "utf8" as const, data, more });
    expect(bounds.file(piece("a", "12"))).toBe("forward");
    expect(bounds.file(piece("big", "123", true))).toBe("forward");
    expect(bounds.file(piece("big", "45"))).toBe("drop"); // 5 bytes, over 4
    expect(bounds.file(piece("b", "1234"))).toBe("forward"); // its place was freed
    expect(bounds.file(piece("c", "1"))).toBe("drop"); // a third file
    expect(bounds.file(piece("a", "1"))).toBe("drop"); // a path seen twice
    const outcome = bounds.outcome(wire());
    expect(outcome.error?.code).toBe("files_truncated");
    expect(outcome.status).toBe("succeeded");
  });

  it("counts base64 pieces by their decoded bytes, and drops a file cut short by another", () => {
    const bounds = new LeaseBounds({ ...DEFAULT_LIMITS, returnedFileBytes: 3 });
    expect(bounds.file({ path: "x", encoding: "base64", data: "AAAA", more: false })).toBe("forward"); // 3 bytes
    expect(bounds.file({ path: "y", encoding: "base64", data: "AAAA", more: true })).toBe("forward");
    expect(bounds.unfinished).toBe("y");
    expect(bounds.file({ path: "z", encoding: "utf8", data: "z", more: false })).toBe("forward");
    expect(bounds.filesDropped).toBe(true); // y never ended
  });

  it("cuts a long error message, and keeps what the agent said otherwise", () => {
    const bounds = new LeaseBounds(DEFAULT_LIMITS);
    const outcome = bounds.outcome(
      wire({ status: "error", exitCode: null, error: { code: "sandbox_error", message: "x".repeat(10_000_000) } }),
    );
    expect(outcome.error?.message.length).toBe(4096);
    expect(outcome.status).toBe("error");
    expect(outcome.files).toEqual([]);
  });
});
