import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";

describe("Backoff", () => {
  it("doubles its ceiling up to the maximum, and reset starts over", () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.999 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([99, 199, 399, 799, 999]);
    b.reset();
    expect(b.next()).toBe(99);
  });

  it("jitters across the whole range", () => {
    const b = new Backoff({ baseMs: 100, random: () => 0 });
    expect(b.next()).toBe(0);
  });
});
