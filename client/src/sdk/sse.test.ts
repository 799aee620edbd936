import { describe, expect, it } from "vitest";
import { LineSplitter, parseSse } from "./sse.ts";

function body(...chunks: string[]): ReadableStream<Uint8Array<ArrayBuffer>> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function all(stream: ReadableStream<Uint8Array<ArrayBuffer>>, maxEventChars?: number) {
  const out = [];
  for await (const m of parseSse(stream, { maxEventChars })) out.push(m);
  return out;
}

describe("parseSse", () => {
  it("reads id, event and data, and skips comments", async () => {
    const events = await all(body(": keep-alive\n\n", 'id: 3\nevent: step.started\ndata: {"a":1}\n\n'));
    expect(events).toEqual([{ id: "3", event: "step.started", data: '{"a":1}' }]);
  });

  it("joins data lines, accepts CRLF and CR, and events split across chunks anywhere", async () => {
    const text = "data: one\r\ndata: two\r\n\r\nevent: x\rdata:three\r\r";
    const whole = await all(body(text));
    expect(whole).toEqual([
      { id: undefined, event: "message", data: "one\ntwo" },
      { id: undefined, event: "x", data: "three" },
    ]);
    // Every split point, including between a CR and its LF.
    for (let i = 1; i < text.length; i++) {
      expect(await all(body(text.slice(0, i), text.slice(i)))).toEqual(whole);
    }
  });

  it("drops an unfinished event at the end and an event with no data", async () => {
    expect(await all(body("event: lonely\n\n", "data: cut off"))).toEqual([]);
  });

  it("refuses an event past the size cap instead of growing without bound", async () => {
    await expect(all(body(`data: ${"x".repeat(100)}\n\n`), 50)).rejects.toThrow(/passed 50 characters/);
    await expect(all(body(`data: ${"x".repeat(100)}`), 50)).rejects.toThrow(/passed 50 characters/);
  });

  it("stops when its signal aborts", async () => {
    const controller = new AbortController();
    const never = new ReadableStream<Uint8Array<ArrayBuffer>>({
      start(c) {
        c.enqueue(new TextEncoder().encode("data: 1\n\n"));
      },
    });
    const seen: string[] = [];
    const done = (async () => {
      for await (const m of parseSse(never, { signal: controller.signal })) {
        seen.push(m.data);
        controller.abort(new Error("stop"));
      }
    })();
    await expect(done).rejects.toThrow("stop");
    expect(seen).toEqual(["1"]);
  });
});

describe("LineSplitter", () => {
  it("holds an unfinished line and counts it", () => {
    const s = new LineSplitter();
    expect(s.push("ab")).toEqual([]);
    expect(s.pendingChars).toBe(2);
    expect(s.push("c\nd")).toEqual(["abc"]);
    expect(s.pendingChars).toBe(1);
  });
});
