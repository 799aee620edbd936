import type { PayloadOf, StoredTeam } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { nextAction } from "../run/loop.ts";
import { foldRun } from "../run/state.ts";
import { type LogItem, log, created as runCreated, T0 } from "../run/test-log.ts";

const model = { provider: "anthropic" as const, model: "m", baseUrl: null };
const member = (name: string, handoffs: string[] = []) => ({
  name,
  role: "assistant" as const,
  model,
  instructions: null,
  description: null,
  tools: [],
  handoffs,
});
const team = (over: Partial<StoredTeam> = {}): StoredTeam => ({
  kind: "round_robin",
  participants: [member("ann"), member("bob")],
  termination: { maxMessages: 50 },
  defaultTermination: true,
  selector: null,
  orchestrator: null,
  ...over,
});
const usage = { inputTokens: 10, outputTokens: 5 };
const created = (t: StoredTeam): LogItem => runCreated({ team: t });
const said = (speaker: string, text = "", handoff?: string): LogItem => [
  "team.message",
  { speaker, text, toolCalls: [], usage: speaker === "user" ? null : usage, ...(handoff ? { handoff } : {}) },
];
const picked = (speaker: string | null, attempt = 1): LogItem => [
  "team.selected",
  { speaker, by: "selector", attempt, said: speaker ?? "?", candidates: ["ann", "bob"], usage },
];
const progress = (speaker: string, stalled: boolean, satisfied = false): LogItem => {
  const yes = (answer: boolean) => ({ answer, reason: "" });
  const payload: PayloadOf<"team.ledger"> = {
    kind: "progress",
    isRequestSatisfied: yes(satisfied),
    isProgressBeingMade: yes(!stalled),
    isInLoop: yes(false),
    nextSpeaker: { answer: speaker, reason: "" },
    instruction: { answer: "go", reason: "" },
    speaker,
    stalls: 0,
    usage,
  };
  return ["team.ledger", payload];
};
const decide = (...items: LogItem[]) => nextAction(foldRun(log(...items)), T0 + 1000);

describe("a team's next action", () => {
  it("round_robin: the participants speak in turn", () => {
    expect(decide(created(team()))).toEqual({ kind: "speak", speaker: "ann" });
    expect(decide(created(team()), said("ann"))).toEqual({ kind: "speak", speaker: "bob" });
    expect(decide(created(team()), said("ann"), said("bob"))).toEqual({ kind: "speak", speaker: "ann" });
  });

  it("ends at its termination, naming what was met", () => {
    const t = team({ termination: { any: [{ textMention: "OK", sources: ["bob"] }, { maxMessages: 3 }] } });
    expect(decide(created(t), said("ann", "OK"))).toEqual({ kind: "speak", speaker: "bob" });
    expect(decide(created(t), said("ann"), said("bob", "OK"))).toMatchObject({
      kind: "end",
      status: "succeeded",
      stoppedBy: [{ textMention: "OK", sources: ["bob"] }],
    });
    // The caller's messages are not counted.
    expect(decide(created(t), said("ann"), said("user", "OK"), said("bob"))).toEqual({ kind: "speak", speaker: "ann" });
  });

  it("selector: asks, follows the pick, and falls back after 1 + 3 invalid picks", () => {
    const t = team({ kind: "selector", selector: { model, prompt: null, allowRepeatedSpeaker: true } });
    expect(decide(created(t))).toEqual({ kind: "select" });
    expect(decide(created(t), picked("bob"))).toEqual({ kind: "speak", speaker: "bob" });
    expect(decide(created(t), picked("bob"), said("bob"))).toEqual({ kind: "select" });
    const invalid = [1, 2, 3].map((n) => picked(null, n));
    expect(decide(created(t), said("bob"), ...invalid)).toEqual({ kind: "select" });
    expect(decide(created(t), said("bob"), ...invalid, picked(null, 4))).toEqual({ kind: "fall_back", speaker: "ann" });
  });

  it("swarm: the speaker keeps the turn until it hands off; a handoff to the user waits for a message", () => {
    const t = team({ kind: "swarm", participants: [member("ann", ["bob", "user"]), member("bob", ["ann"])] });
    expect(decide(created(t), said("ann"))).toEqual({ kind: "speak", speaker: "ann" });
    expect(decide(created(t), said("ann", "", "bob"))).toEqual({ kind: "speak", speaker: "bob" });
    const parked = foldRun(log(created(t), said("ann", "", "bob"), said("bob", "", "ann"), said("ann", "?", "user")));
    expect(parked.status).toBe("awaiting_input");
    expect(nextAction(parked, T0 + 1000)).toEqual({ kind: "idle" });
    const answered = [created(t), said("ann", "", "user"), said("user", "this one")] as const;
    expect(foldRun(log(...answered)).status).toBe("running");
    expect(decide(...answered)).toEqual({ kind: "speak", speaker: "ann" });
  });

  it("magentic_one: ledgers first, the named speaker, and a re-plan after maxStalls", () => {
    const t = team({ kind: "magentic_one", orchestrator: { model, maxStalls: 2 } });
    const ledger: LogItem = ["team.ledger", { kind: "task", facts: "f", plan: "p", replan: false, usage }];
    expect(decide(created(t))).toEqual({ kind: "task_ledger" });
    expect(decide(created(t), ledger)).toEqual({ kind: "progress_ledger" });
    expect(decide(created(t), ledger, progress("bob", false))).toEqual({ kind: "speak", speaker: "bob" });
    expect(decide(created(t), ledger, progress("bob", false), said("bob"))).toEqual({ kind: "progress_ledger" });
    const stalled = (n: number): LogItem => {
      const [type, p] = progress("ann", true);
      return [type, { ...(p as Extract<PayloadOf<"team.ledger">, { kind: "progress" }>), stalls: n }] as LogItem;
    };
    expect(decide(created(t), ledger, stalled(1), said("ann"), stalled(2))).toEqual({ kind: "task_ledger" });
    expect(decide(created(t), ledger, progress("ann", false, true))).toMatchObject({
      kind: "end",
      status: "succeeded",
      stoppedBy: [{ requestSatisfied: "the orchestrator found the request satisfied" }],
    });
  });

  it("a continued run counts its termination from the new turn", () => {
    const t = team({ termination: { maxMessages: 1 } });
    const ended = [
      created(t),
      said("ann"),
      ["run.finished", { status: "succeeded", reason: null, message: null }],
    ] as LogItem[];
    expect(foldRun(log(...ended)).status).toBe("succeeded");
    const again = [...ended, ["run.continued", { text: "more", turn: 1 }] as LogItem];
    const s = foldRun(log(...again));
    expect(s.status).toBe("running");
    expect(s.tasks).toEqual(["t", "more"]);
    expect(nextAction(s, T0 + 1000)).toEqual({ kind: "speak", speaker: "bob" });
  });
});
