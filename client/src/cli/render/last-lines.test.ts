import { describe, expect, it } from "vitest";
import { LastLines } from "./last-lines.ts";

describe("LastLines", () => {
  it("keeps the newest lines across pieces that split lines anywhere", () => {
    const tail = new LastLines(3);
    tail.push("one\ntw");
    expect(tail.lines()).toEqual(["one", "tw"]);
    tail.push("o\nthree\nfour\n");
    expect(tail.lines()).toEqual(["two", "three", "four"]);
    tail.push("five");
    expect(tail.lines()).toEqual(["three", "four", "five"]);
  });

  it("starts a line over at a carriage return, as a terminal does, and treats CRLF as an ending", () => {
    const tail = new LastLines(5);
    tail.push("progress 10%\rprogress 50%");
    expect(tail.lines()).toEqual(["progress 50%"]);
    tail.push("\rprogress 100%\r\ndone\r\n");
    expect(tail.lines()).toEqual(["progress 100%", "done"]);
    tail.push("abc\r");
    tail.push("xy\n");
    expect(tail.lines().at(-1)).toBe("xy");
  });

  it("makes control characters visible and tabs spaces, so output cannot drive the terminal", () => {
    const tail = new LastLines(2);
    tail.push("\u001b[2J\u001b]0;owned\u0007\tx\n");
    expect(tail.lines()).toEqual(["\\x1b[2J\\x1b]0;owned\\x07  x"]);
  });

  it("stays bounded however much is printed, with or without newlines", () => {
    const tail = new LastLines(5);
    for (let i = 0; i < 10_000; i++) tail.push(`line ${i}\n`);
    expect(tail.lines()).toEqual(["line 9995", "line 9996", "line 9997", "line 9998", "line 9999"]);
    for (let i = 0; i < 1000; i++) tail.push("y".repeat(1000));
    const last = tail.lines().at(-1) ?? "";
    expect(last.length).toBeLessThanOrEqual(4096);
    expect(() => new LastLines(0)).toThrow(/at least 1/);
  });
});
