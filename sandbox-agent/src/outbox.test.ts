import { type AgentFrame, MAX_AGENT_FRAME_CHARS, parseFrame, AgentFrame as Schema } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { HOLD_ABOVE_CHARS, Outbox } from "./outbox.ts";

const ID = "ex_0123456789abcdef01234567";
const output = (seq: number, data: string): AgentFrame => ({
  type: "exec.output",
  executionId: ID,
  seq,
  stream: "stdout",
  data,
});
const finished = (seq: number): AgentFrame => ({
  type: "exec.finished",
  executionId: ID,
  seq,
  outcome: {
    status: "succeeded",
    exitCode: 0,
    signal: null,
    durationMs: 1,
    truncated: { stdout: false, stderr: false },
  },
});

function wire(window: number) {
  const sent: AgentFrame[] = [];
  const outbox = new Outbox(window, (text) => {
    const parsed = parseFrame(Schema, text);
    if (!parsed.ok) throw new Error(parsed.message);
    sent.push(parsed.frame);
  });
  return { outbox, sent, seqs: () => sent.map((f) => ("seq" in f ? f.seq : -1)) };
}

describe("an execution's outbox", () => {
  it("sends while the window is above zero, then waits for credit, in order", () => {
    const { outbox, seqs } = wire(100);
    outbox.send(output(0, "a".repeat(150))); // overdraws by one frame
    outbox.send(output(1, "b"));
    outbox.send(finished(2));
    expect(seqs()).toEqual([0]);
    outbox.credit(50); // back to about zero: still nothing
    expect(seqs()).toEqual([0]);
    outbox.credit(10_000);
    expect(seqs()).toEqual([0, 1, 2]);
  });

  it("lets exec.finished through with no window, but never ahead of what waits", () => {
    const { outbox, seqs } = wire(1);
    outbox.send(finished(0));
    expect(seqs()).toEqual([0]);
  });

  it("makes piped frames only as the window opens, keeping their order with later sends", () => {
    const { outbox, seqs } = wire(50);
    let made = 0;
    function* pieces() {
      for (let seq = 0; seq < 4; seq++) {
        made++;
        yield output(seq, "x".repeat(100));
      }
      made++;
      yield finished(4);
    }
    outbox.pipe(pieces());
    expect(made).toBe(1);
    expect(seqs()).toEqual([0]);
    outbox.credit(10_000);
    expect(seqs()).toEqual([0, 1, 2, 3, 4]);
    expect(made).toBe(5);
  });

  it("holds the sandbox while the backlog is large, and lets it go once it drains", () => {
    const { outbox } = wire(1);
    const changes: boolean[] = [];
    outbox.onHold = (held) => changes.push(held);
    const piece = "y".repeat(200_000);
    for (let seq = 0; seq < 8; seq++) outbox.send(output(seq, piece));
    expect(outbox.backlog).toBeGreaterThan(HOLD_ABOVE_CHARS);
    expect(outbox.held).toBe(true);
    outbox.credit(Number.MAX_SAFE_INTEGER);
    expect(outbox.held).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it("replaces a frame over the protocol's maximum with the one onOversize gives, and sends nothing after it", () => {
    const { outbox, sent } = wire(10_000_000);
    outbox.onOversize = (frame) => finished("seq" in frame ? frame.seq : 0);
    outbox.send(output(0, "ok"));
    outbox.send(output(1, "\u0001".repeat(MAX_AGENT_FRAME_CHARS / 4))); // six characters each once escaped
    outbox.send(output(2, "after"));
    expect(sent.map((f) => f.type)).toEqual(["exec.output", "exec.finished"]);
    expect(sent[1]).toMatchObject({ seq: 1 });
  });
});
