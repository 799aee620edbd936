import { PassThrough } from "node:stream";
import type { RunEvent, RunStatus, RunView } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { EdgeswarmApiError } from "../../sdk/errors.ts";
import { PipedLines } from "../line-input.ts";
import { InputEnded, UserTurn } from "./user-turn.ts";

const RUN = "run_0123456789abcdef01234567";
let seq = 0;
function ev<T extends RunEvent["type"]>(type: T, payload: Extract<RunEvent, { type: T }>["payload"]): RunEvent {
  return { seq: ++seq, type, source: "loop", at: "2026-01-01T00:00:00.000Z", v: 1, payload } as RunEvent;
}
const handoff = (text: string) =>
  ev("team.message", { speaker: "coder", text, toolCalls: [], handoff: "user", usage: null });
const view = (status: RunStatus) => ({ id: RUN, status }) as RunView;

/** A UserTurn over piped `input`, a run whose status reads as `status()`, and what it did. */
function turn(status: () => RunStatus, input: PassThrough) {
  const sent: string[] = [];
  const shown: string[] = [];
  const stopped = Promise.withResolvers<Error>();
  const sentOne = Promise.withResolvers<void>();
  let refuse: EdgeswarmApiError | null = null;
  const t = new UserTurn({
    runId: RUN,
    runs: {
      get: async () => view(status()),
      send: async (_id, text) => {
        if (refuse) throw refuse;
        sent.push(text);
        sentOne.resolve();
        return view("running");
      },
    },
    input: new PipedLines(input),
    show: (lines) => shown.push(...lines),
    stop: (why) => stopped.resolve(why),
  });
  return {
    t,
    sent,
    shown,
    stopped: stopped.promise,
    sentOne: sentOne.promise,
    refuseWith: (e: EdgeswarmApiError) => {
      refuse = e;
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe("UserTurn", () => {
  it("shows the handoff's message, reads one line and sends it; the next line waits for the next question", async () => {
    const input = new PassThrough();
    const u = turn(() => "awaiting_input", input);
    input.write("\n  \ndata.csv\nsecond answer\n");
    u.t.seen(handoff("Which file?\nCSV or JSON?"));
    await u.sentOne;
    expect(u.sent).toEqual(["data.csv"]);
    expect(u.shown).toEqual(["coder hands the conversation to you:", "  Which file?", "  CSV or JSON?"]);
    u.t.seen(ev("team.message", { speaker: "user", text: "data.csv", toolCalls: [], usage: null }));
    u.t.seen(handoff("And the column?"));
    await tick();
    expect(u.sent).toEqual(["data.csv", "second answer"]);
    u.t.close();
  });

  it("stops the following with InputEnded when the input ends before an answer", async () => {
    const input = new PassThrough();
    const u = turn(() => "awaiting_input", input);
    input.end();
    u.t.seen(handoff("Which file?"));
    const why = await u.stopped;
    expect(why).toBeInstanceOf(InputEnded);
    expect(why.message).toBe(
      `run ${RUN} waits for your answer, and stdin has ended; answer with: edgeswarm runs send ${RUN} "<text>"`,
    );
    expect(u.sent).toEqual([]);
  });

  it("asks nothing when the handoff ended the run, and takes the question back when the run moves on", async () => {
    const input = new PassThrough();
    let status: RunStatus = "succeeded";
    const u = turn(() => status, input);
    u.t.seen(handoff("Done here."));
    await tick();
    expect(u.shown).toEqual([]);

    status = "awaiting_input";
    u.t.seen(handoff("Which file?"));
    await tick();
    expect(u.shown).toHaveLength(2);
    // Answered from elsewhere (runs send): this question is over; a line that comes later is not sent for it.
    u.t.seen(ev("team.message", { speaker: "user", text: "from elsewhere", toolCalls: [], usage: null }));
    await tick();
    input.write("late\n");
    await tick();
    expect(u.sent).toEqual([]);
    u.t.close();
  });

  it("leaves a 409 be (the run moved on meanwhile), and stops on any other failure to send", async () => {
    const input = new PassThrough();
    const u = turn(() => "awaiting_input", input);
    u.refuseWith(new EdgeswarmApiError(409, "invalid_state", "the run is running"));
    input.write("one\n");
    u.t.seen(handoff("Which file?"));
    await tick();
    u.refuseWith(new EdgeswarmApiError(500, "internal_error", "boom"));
    input.write("two\n");
    u.t.seen(handoff("Which file, again?"));
    expect((await u.stopped).message).toBe("boom");
    u.t.close();
  });
});
