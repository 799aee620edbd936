import type { RunEvent, StoredTeam } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { eventLine } from "./event-line.ts";
import { ProgressView } from "./progress.ts";
import { stopLine } from "./team.ts";

const RUN = "run_0123456789abcdef01234567";
let seq = 0;
function ev<T extends RunEvent["type"]>(type: T, payload: Extract<RunEvent, { type: T }>["payload"]): RunEvent {
  return { seq: ++seq, type, source: "loop", at: "2026-01-01T00:00:00.000Z", v: 1, payload } as RunEvent;
}
const usage = { inputTokens: 10, outputTokens: 5 };
const model = { provider: "anthropic" as const, model: "claude", baseUrl: null };
const member = (name: string, handoffs: string[]) => ({
  name,
  role: "coder" as const,
  model,
  instructions: null,
  description: null,
  tools: ["run_code"],
  handoffs,
});
const TEAM: StoredTeam = {
  kind: "swarm",
  participants: [member("coder", ["tester", "user"]), member("tester", ["coder"])],
  termination: { textMention: "DONE" },
  defaultTermination: false,
  selector: null,
  orchestrator: null,
};
const created = ev("run.created", {
  task: "Read the data.",
  tenant: "a",
  planner: null,
  coder: model,
  maxIterations: 8,
  tokenBudget: null,
  timeoutMs: 600_000,
  approval: "never",
  limits: {},
  pool: "p",
  metadata: null,
  webhookUrl: null,
  files: [],
  team: TEAM,
} as unknown as Extract<RunEvent, { type: "run.created" }>["payload"]);
const call = { id: "call_1", name: "transfer_to_user", input: {} };
const summary = { id: "call_1", name: "run_code", status: "succeeded", exitCode: 0, stdout: "", stderr: "", files: [] };

describe("eventLine for a team's events", () => {
  it("names the speaker, whom it hands off to, its calls' outcomes and tokens", () => {
    const replied = ev("participant.replied", {
      speaker: "coder",
      turn: 0,
      text: "Which file?",
      toolCalls: [call],
      usage,
    });
    expect(eventLine(replied, RUN)).toBe(
      `#${replied.seq} participant.replied  coder calls transfer_to_user: Which file? (10 in, 5 out tokens)`,
    );
    // The handoff's own call is shown as the arrow, not as a call.
    const transfer = { ...summary, name: "transfer_to_user", status: "handoff", exitCode: null };
    const handoff = ev("team.message", {
      speaker: "coder",
      text: "Which\nfile?",
      toolCalls: [transfer],
      handoff: "user",
      usage: null,
    });
    expect(eventLine(handoff, RUN)).toBe(`#${handoff.seq} team.message  coder → user: Which file?`);
    const ran = ev("team.message", { speaker: "tester", text: "ok", toolCalls: [summary], usage });
    expect(eventLine(ran, RUN)).toBe(
      `#${ran.seq} team.message  tester: ok [run_code call_1 succeeded (exit 0)] (10 in, 5 out tokens)`,
    );
  });

  it("says what the selector picked, and the orchestrator's ledgers", () => {
    const pick = { attempt: 1, said: "critic", candidates: ["writer", "critic"], usage };
    const picked = ev("team.selected", { ...pick, speaker: "critic", by: "selector" });
    expect(eventLine(picked, RUN)).toMatch(/team\.selected {2}selector picks critic \(attempt 1\)$/);
    const none = ev("team.selected", { ...pick, speaker: null, by: "selector", said: "the\u001b editor", attempt: 2 });
    expect(eventLine(none, RUN)).toMatch(/selector attempt 2 named no one of writer, critic: the\\x1b editor$/);
    const fallback = ev("team.selected", { ...pick, speaker: "writer", by: "fallback", attempt: 5, usage: null });
    expect(eventLine(fallback, RUN)).toMatch(/no valid pick after 4 attempts; next in turn: writer$/);
    const plan = ev("team.ledger", { kind: "task", facts: "f", plan: "- draft\n- check", replan: false, usage });
    expect(eventLine(plan, RUN)).toMatch(/team\.ledger {2}task ledger: - draft - check$/);
    const yes = { answer: true, reason: "r" };
    const no = { answer: false, reason: "r" };
    const progress = ev("team.ledger", {
      kind: "progress",
      isRequestSatisfied: no,
      isProgressBeingMade: no,
      isInLoop: no,
      nextSpeaker: { answer: "critic", reason: "r" },
      instruction: { answer: "Check it.", reason: "r" },
      speaker: "critic",
      stalls: 2,
      usage,
    });
    expect(eventLine(progress, RUN)).toMatch(/progress: next critic \(stalls 2, stalled\): Check it\.$/);
    const done = { ...(progress.payload as object), isRequestSatisfied: { ...yes, reason: "it is done" } };
    expect(eventLine(ev("team.ledger", done as never), RUN)).toMatch(/request satisfied: it is done$/);
  });

  it("says what stopped the team when the run finishes", () => {
    const end = ev("run.finished", {
      status: "succeeded",
      reason: null,
      message: null,
      stoppedBy: [{ textMention: "APPROVE", sources: ["reviewer"] }, { requestSatisfied: "done" }],
    });
    expect(eventLine(end, RUN)).toBe(
      `#${end.seq} run.finished  succeeded: stopped by textMention "APPROVE" from reviewer; request satisfied: done`,
    );
  });
});

describe("stopLine", () => {
  it("puts each kind of condition in words, nested ones too", () => {
    expect(
      stopLine([
        { any: [{ maxMessages: 3 }, { handoff: "user" }] },
        { all: [{ tokenUsage: 100 }, { timeoutMs: 5000 }, { functionCall: "finish" }] },
      ]),
    ).toBe("any of (maxMessages 3; handoff to user); all of (tokenUsage 100; timeoutMs 5000; functionCall finish)");
  });
});

describe("ProgressView for a team run", () => {
  it("shows the team, who speaks, the last message, and the status while it waits for the user", () => {
    const view = new ProgressView(
      RUN,
      () => {},
      () => 200,
    );
    view.update(created);
    expect(view.lines()).toEqual([
      `run ${RUN}  running`,
      "swarm (coder, tester)  message 0  iteration 0/8  tokens 0 in / 0 out",
    ]);
    view.update(ev("participant.replied", { speaker: "coder", turn: 0, text: "", toolCalls: [call], usage }));
    expect(view.lines()[1]).toBe(
      "swarm (coder, tester)  message 0  speaking: coder  iteration 0/8  tokens 10 in / 5 out",
    );
    view.update(
      ev("team.message", { speaker: "coder", text: "Which file?", toolCalls: [], handoff: "user", usage: null }),
    );
    expect(view.lines()).toEqual([
      `run ${RUN}  awaiting_input`,
      "swarm (coder, tester)  message 1  iteration 0/8  tokens 10 in / 5 out",
      "  coder → user: Which file?",
    ]);
    view.update(ev("team.message", { speaker: "user", text: "data.csv", toolCalls: [], usage: null }));
    expect(view.lines()[0]).toBe(`run ${RUN}  running`);
    expect(view.lines()[2]).toBe("  user: data.csv");
  });

  it("shows the selector's pick and the orchestrator's instruction as whose turn it is", () => {
    const view = new ProgressView(
      RUN,
      () => {},
      () => 200,
    );
    view.update(created);
    view.update(
      ev("team.selected", { speaker: "tester", by: "selector", attempt: 1, said: "tester", candidates: [], usage }),
    );
    expect(view.lines().slice(1)).toEqual([
      "swarm (coder, tester)  message 0  speaking: tester  iteration 0/8  tokens 10 in / 5 out",
      "  selector picked tester",
    ]);
  });
});
