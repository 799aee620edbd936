import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveOutput, type OutputPiece } from "./live-output.ts";

describe("LiveOutput", () => {
  let pieces: OutputPiece[];
  let live: LiveOutput;
  beforeEach(() => {
    vi.useFakeTimers();
    pieces = [];
    live = new LiveOutput((p) => pieces.push(p), { intervalMs: 100, cap: 10 });
  });
  afterEach(() => vi.useRealTimers());

  it("joins a stream's chunks and hands them on once per interval", () => {
    live.push("stdout", "a\n");
    live.push("stdout", "b\n");
    expect(pieces).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(pieces).toEqual([{ stream: "stdout", data: "a\nb\n" }]);
    live.push("stdout", "c");
    vi.advanceTimersByTime(99);
    expect(pieces).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(pieces.at(-1)).toEqual({ stream: "stdout", data: "c" });
  });

  it("keeps the order of stdout and stderr", () => {
    live.push("stdout", "1");
    live.push("stderr", "2");
    live.push("stdout", "3");
    live.close();
    expect(pieces.map((p) => `${p.stream}:${p.data}`)).toEqual(["stdout:1", "stderr:2", "stdout:3"]);
  });

  it("passes at most the cap, marks the piece that reached it, and drops the rest", () => {
    live.push("stdout", "12345678");
    live.push("stderr", "abcdef");
    live.push("stdout", "more");
    live.close();
    expect(pieces).toEqual([
      { stream: "stdout", data: "12345678" },
      { stream: "stderr", data: "ab", cut: true },
    ]);
  });

  it("never splits a surrogate pair at the cap", () => {
    live.push("stdout", `123456789${"😀"}`);
    live.close();
    expect(pieces).toEqual([{ stream: "stdout", data: "123456789", cut: true }]);
  });

  it("hands on nothing after close", () => {
    live.push("stdout", "x");
    live.close();
    live.push("stdout", "y");
    vi.advanceTimersByTime(1000);
    expect(pieces).toEqual([{ stream: "stdout", data: "x" }]);
  });
});
