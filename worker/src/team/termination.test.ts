import type { Termination } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { metAt, stoppedBy, type TeamMessage } from "./termination.ts";

const say = (speaker: string, text: string, extra: Partial<TeamMessage> = {}, i = 0): TeamMessage => ({
  speaker,
  text,
  toolCalls: [],
  tokens: 100 * (i + 1),
  atMs: 1000 * (i + 1),
  ...extra,
});

const talk = (...lines: [string, string, Partial<TeamMessage>?][]) =>
  lines.map(([speaker, text, extra], i) => say(speaker, text, extra, i));

describe("team termination", () => {
  const approved = talk(
    ["coder", "ran it; APPROVE? not mine to say", { toolCalls: ["run_code"] }],
    ["reviewer", "Fix the edge case."],
    ["coder", "fixed", { toolCalls: ["run_code"] }],
    ["reviewer", "APPROVE"],
  );

  it("takes textMention only from its sources, when it has them", () => {
    expect(metAt({ textMention: "APPROVE" }, approved)).toBe(0);
    expect(metAt({ textMention: "APPROVE", sources: ["reviewer"] }, approved)).toBe(3);
    expect(metAt({ textMention: "LGTM" }, approved)).toBeNull();
  });

  it("counts messages, tokens and time, and sees handoffs and tool calls", () => {
    expect(metAt({ maxMessages: 4 }, approved)).toBe(3);
    expect(metAt({ maxMessages: 5 }, approved)).toBeNull();
    expect(metAt({ tokenUsage: 250 }, approved)).toBe(2);
    expect(metAt({ timeoutMs: 2000 }, approved)).toBe(1);
    expect(metAt({ functionCall: "run_code" }, approved)).toBe(0);
    const handed = talk(["coder", "over to you", { handoff: "tester" }], ["tester", "back", { handoff: "user" }]);
    expect(metAt({ handoff: "user" }, handed)).toBe(1);
  });

  it("meets any at its earliest child and all at its latest, and names what ended it", () => {
    const any: Termination = { any: [{ textMention: "APPROVE", sources: ["reviewer"] }, { maxMessages: 30 }] };
    expect(metAt(any, approved)).toBe(3);
    expect(stoppedBy(any, approved)).toEqual([{ textMention: "APPROVE", sources: ["reviewer"] }]);
    const all: Termination = { all: [{ functionCall: "run_code" }, { textMention: "APPROVE", sources: ["reviewer"] }] };
    expect(metAt(all, approved)).toBe(3);
    expect(stoppedBy(all, approved)).toEqual([
      { functionCall: "run_code" },
      { textMention: "APPROVE", sources: ["reviewer"] },
    ]);
    expect(metAt({ all: [{ maxMessages: 2 }, { textMention: "never" }] }, approved)).toBeNull();
    expect(stoppedBy({ any: [{ maxMessages: 99 }] }, approved)).toBeNull();
  });

  it("is a fold: a longer conversation never un-meets a condition", () => {
    const t: Termination = { any: [{ all: [{ tokenUsage: 150 }, { textMention: "fixed" }] }, { maxMessages: 10 }] };
    const at = approved.map((_, n) => metAt(t, approved.slice(0, n + 1)));
    expect(at).toEqual([null, null, 2, 2]);
  });
});
