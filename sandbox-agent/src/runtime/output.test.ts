import { describe, expect, it } from "vitest";
import { CappedDecoder } from "./output.ts";

const bytes = (...b: number[]) => Uint8Array.from(b);

describe("CappedDecoder", () => {
  it("keeps a character split across chunks", () => {
    const d = new CappedDecoder(1024);
    const euro = Buffer.from("€"); // e2 82 ac
    expect(d.write(euro.subarray(0, 1))).toBe("");
    expect(d.write(euro.subarray(1, 2))).toBe("");
    expect(d.write(Buffer.concat([euro.subarray(2), Buffer.from("!")]))).toBe("€!");
    expect(d.end()).toBe("");
  });

  it("turns invalid bytes into U+FFFD", () => {
    const d = new CappedDecoder(1024);
    expect(d.write(bytes(0x61, 0xff, 0xfe, 0x62))).toBe("a\uFFFD\uFFFDb");
  });

  it("turns a trailing incomplete character into U+FFFD at the end", () => {
    const d = new CappedDecoder(1024);
    expect(d.write(bytes(0x61, 0xe2, 0x82))).toBe("a");
    expect(d.end()).toBe("\uFFFD");
    expect(d.write(bytes(0x62))).toBe(""); // ended
  });

  it("keeps a byte-order mark: it is the program's output", () => {
    expect(new CappedDecoder(16).write(bytes(0xef, 0xbb, 0xbf, 0x61))).toBe("\uFEFFa");
  });

  it("accepts exactly the cap, then drops and flags the rest", () => {
    const d = new CappedDecoder(5);
    expect(d.write(Buffer.from("abc"))).toBe("abc");
    expect(d.truncated).toBe(false);
    expect(d.write(Buffer.from("defg"))).toBe("de");
    expect(d.bytes).toBe(5);
    expect(d.truncated).toBe(true);
    expect(d.write(Buffer.from("h"))).toBe("");
    expect(d.bytes).toBe(5);
  });

  it("does not flag output of exactly the cap", () => {
    const d = new CappedDecoder(3);
    expect(d.write(Buffer.from("abc"))).toBe("abc");
    expect(d.write(new Uint8Array(0))).toBe("");
    expect(d.truncated).toBe(false);
  });

  it("shows a character the cap cut in two as U+FFFD", () => {
    const d = new CappedDecoder(2);
    expect(d.write(Buffer.from("a€"))).toBe("a");
    expect(d.end()).toBe("\uFFFD");
    expect(d.truncated).toBe(true);
  });
});
