import type { RunEvent } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { Edgeswarm } from "./client.ts";
import { EdgeswarmApiError, EdgeswarmUnreachableError } from "./errors.ts";

const RUN = "run_0123456789abcdef01234567";

function event(seq: number, type: "step.started" | "run.finished" = "step.started"): RunEvent {
  const base = { seq, source: "loop" as const, at: new Date(0).toISOString(), v: 1 as const };
  return type === "run.finished"
    ? { ...base, type, payload: { status: "succeeded", reason: null, message: null } }
    : { ...base, type, payload: { step: seq } };
}

const frame = (e: RunEvent) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

/** A body that sends `frames`, then fails like a reset connection (or ends, with `end`). */
function body(frames: string[], end: "reset" | "close"): ReadableStream<Uint8Array<ArrayBuffer>> {
  const encoder = new TextEncoder();
  const queue = [...frames];
  // Pull-driven, so the reset comes after the frames were read (error() would discard a queue).
  return new ReadableStream({
    pull(c) {
      const next = queue.shift();
      if (next !== undefined) c.enqueue(encoder.encode(next));
      else if (end === "close") c.close();
      else c.error(new TypeError("terminated"));
    },
  });
}

describe("runs.events", () => {
  it("resumes after a dropped connection from the last id it saw, without gaps or repeats", async () => {
    const asked: (string | null)[] = [];
    const answers = [
      () => new Response(body([frame(event(1)), frame(event(2))], "reset")),
      () => Promise.reject(new TypeError("fetch failed")),
      // A server that resends an event the client already has must not make it repeat.
      () => new Response(body([frame(event(2)), frame(event(3)), frame(event(4, "run.finished"))], "close")),
    ];
    const swarm = new Edgeswarm({
      url: "http://api.test",
      apiKey: "k",
      retry: { attempts: 3, baseMs: 1, maxMs: 2 },
      fetch: async (input, init) => {
        // After run.finished, the one question whether anything follows it.
        if (String(input).endsWith("/events?after=4&limit=1"))
          return Response.json({ events: [], next: 4, done: true });
        asked.push(new Headers(init?.headers).get("Last-Event-ID"));
        const next = answers.shift();
        if (!next) throw new Error(`unexpected request ${String(input)}`);
        return next();
      },
    });
    const seqs: number[] = [];
    for await (const e of swarm.runs.events(RUN)) seqs.push(e.seq);
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(asked).toEqual([null, "2", "2"]);
  });

  it("gives up after its attempts in a row, as unreachable", async () => {
    let calls = 0;
    const swarm = new Edgeswarm({
      url: "http://api.test",
      apiKey: "k",
      retry: { attempts: 2, baseMs: 1, maxMs: 1 },
      fetch: async () => {
        calls++;
        throw new TypeError("fetch failed");
      },
    });
    const err = await (async () => {
      for await (const _ of swarm.runs.events(RUN));
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeswarmUnreachableError);
    expect(calls).toBe(3);
  });

  it("does not retry an answer that retrying cannot fix (404)", async () => {
    let calls = 0;
    const swarm = new Edgeswarm({
      url: "http://api.test",
      apiKey: "k",
      fetch: async () => {
        calls++;
        return Response.json({ error: { code: "not_found", message: "no such run" } }, { status: 404 });
      },
    });
    const err = await (async () => {
      for await (const _ of swarm.runs.events(RUN));
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeswarmApiError);
    expect(err).toMatchObject({ code: "not_found", status: 404 });
    expect(calls).toBe(1);
  });
});
