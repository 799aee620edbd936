import { DEFAULT_LIMITS, type PayloadOf, type RunEvent } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { nextAction } from "./loop.ts";
import { foldRun } from "./state.ts";
import { log, created as runCreated, T0 } from "./test-log.ts";

const created = (over: Partial<PayloadOf<"run.created">> = {}) =>
  runCreated({ limits: { ...DEFAULT_LIMITS, timeoutMs: 1000, memoryMb: 64, pids: 64, outputBytes: 1024 }, ...over });
const plan: ["plan.created", PayloadOf<"plan.created">] = [
  "plan.created",
  { steps: [{ goal: "g", successCriterion: "c" }], skipped: true, usage: null },
];
const usage = { inputTokens: 10, outputTokens: 5 };
const runCode = (...ids: string[]): ["coder.replied", PayloadOf<"coder.replied">] => [
  "coder.replied",
  { step: 0, text: "", toolCalls: ids.map((id) => ({ id, name: "run_code", input: { code: "print(1)" } })), usage },
];
const asked = (id: string): ["approval.requested", PayloadOf<"approval.requested">] => [
  "approval.requested",
  { step: 0, toolCallId: id, language: "python", code: "print(1)" },
];
const executed = (
  id: string,
  status: "succeeded" | "failed" = "failed",
): ["execution.finished", PayloadOf<"execution.finished">] => [
  "execution.finished",
  {
    step: 0,
    iteration: 1,
    toolCallId: id,
    executionId: null,
    agentId: "x",
    language: "python",
    status,
    exitCode: status === "failed" ? 1 : 0,
    signal: null,
    durationMs: 5,
    stdout: "",
    stderr: "",
    truncated: { stdout: false, stderr: false },
    files: [],
    error: null,
  },
];

const decide = (events: RunEvent[], now = T0 + 1000) => nextAction(foldRun(events), now);

describe("nextAction", () => {
  it("walks a run from creation to its first execution", () => {
    expect(decide(log(created()))).toEqual({ kind: "skip_plan" });
    expect(decide(log(created({ planner: { provider: "openai", model: "o3-mini", baseUrl: null } })))).toEqual({
      kind: "plan",
    });
    expect(decide(log(created(), plan))).toEqual({ kind: "start_step", step: 0 });
    expect(decide(log(created(), plan, ["step.started", { step: 0 }]))).toEqual({ kind: "call_coder" });
    expect(decide(log(created(), plan, ["step.started", { step: 0 }], runCode("c1")))).toMatchObject({
      kind: "execute",
      calls: [{ id: "c1" }],
    });
    expect(decide(log(created(), plan, ["step.started", { step: 0 }], runCode("c1"), executed("c1")))).toEqual({
      kind: "call_coder",
    });
  });

  it("fails max_iterations instead of running one execution too many", () => {
    const events = log(
      created(),
      plan,
      ["step.started", { step: 0 }],
      runCode("c1"),
      executed("c1"),
      runCode("c2"),
      executed("c2"),
      runCode("c3"),
    );
    expect(decide(events)).toMatchObject({ kind: "end", status: "failed", reason: "max_iterations" });
  });

  it("parks for approval, and runs once approved", () => {
    const base = log(created({ approval: "always" }), plan, ["step.started", { step: 0 }], runCode("c1"));
    expect(decide(base)).toMatchObject({ kind: "ask_approval" });
    const parked = log(
      created({ approval: "always" }),
      plan,
      ["step.started", { step: 0 }],
      runCode("c1"),
      asked("c1"),
    );
    expect(decide(parked)).toEqual({ kind: "idle" });
    expect(foldRun(parked).status).toBe("awaiting_approval");
  });

  it("runs a reply's run_code calls together, no more than the iterations left", () => {
    const started: ["step.started", PayloadOf<"step.started">] = ["step.started", { step: 0 }];
    const two = log(created({ maxIterations: 5 }), plan, started, runCode("c1", "c2"));
    expect(decide(two)).toMatchObject({ kind: "execute", calls: [{ id: "c1" }, { id: "c2" }] });
    const oneLeft = log(created(), plan, started, runCode("c0"), executed("c0"), runCode("c1", "c2"));
    expect(decide(oneLeft)).toMatchObject({ kind: "execute", calls: [{ id: "c1" }] });
    const mixed = log(created({ maxIterations: 5 }), plan, started, [
      "coder.replied",
      {
        step: 0,
        text: "",
        toolCalls: [
          { id: "c1", name: "run_code", input: { code: "1" } },
          { id: "c2", name: "finish", input: {} },
          { id: "c3", name: "run_code", input: { code: "3" } },
        ],
        usage,
      },
    ]);
    expect(decide(mixed)).toMatchObject({ kind: "execute", calls: [{ id: "c1" }] });
  });

  it("asks about each of a reply's calls at once, and waits until every one is decided", () => {
    const opts = created({ approval: "always", maxIterations: 5 });
    const base = log(opts, plan, ["step.started", { step: 0 }], runCode("c1", "c2"));
    expect(decide(base)).toMatchObject({ kind: "ask_approval", calls: [{ id: "c1" }, { id: "c2" }] });
    const oneDecided = log(opts, plan, ["step.started", { step: 0 }], runCode("c1", "c2"), asked("c1"), asked("c2"), [
      "approval.decided",
      { toolCallId: "c1", approve: true, reason: null },
    ]);
    expect(decide(oneDecided)).toEqual({ kind: "idle" });
    expect(foldRun(oneDecided).status).toBe("awaiting_approval");
    const both = log(
      opts,
      plan,
      ["step.started", { step: 0 }],
      runCode("c1", "c2"),
      asked("c1"),
      asked("c2"),
      ["approval.decided", { toolCallId: "c1", approve: true, reason: null }],
      ["approval.decided", { toolCallId: "c2", approve: false, reason: "no" }],
    );
    expect(foldRun(both).status).toBe("running");
    expect(decide(both)).toMatchObject({ kind: "execute", calls: [{ id: "c1" }] });
  });

  it("ends at the deadline and at the token budget", () => {
    expect(decide(log(created(), plan), T0 + 60_000)).toMatchObject({ kind: "end", status: "timed_out" });
    const spent = log(created({ tokenBudget: 15 }), plan, ["step.started", { step: 0 }], runCode("c1"), executed("c1"));
    expect(decide(spent)).toMatchObject({ kind: "end", reason: "token_budget" });
  });

  it("waits out a model retry, then calls again", () => {
    const events = log(
      created(),
      plan,
      ["step.started", { step: 0 }],
      ["model.retry", { role: "coder", attempt: 1, delayMs: 5000, message: "429" }],
    );
    expect(decide(events, T0 + 1000)).toEqual({ kind: "wait", until: T0 + 3 + 5000 });
    expect(decide(events, T0 + 6000)).toEqual({ kind: "call_coder" });
  });

  it("nudges a coder that answered without a tool, and counts it", () => {
    const events = log(
      created(),
      plan,
      ["step.started", { step: 0 }],
      ["coder.replied", { step: 0, text: "hmm", toolCalls: [], usage }],
    );
    expect(decide(events)).toMatchObject({ kind: "nudge" });
  });

  it("succeeds after the last step's success, and fails after a failure verdict", () => {
    const done = (verdict: "success" | "failure") =>
      log(
        created(),
        plan,
        ["step.started", { step: 0 }],
        ["step.finished", { step: 0, summary: "s", code: "", verdict }],
      );
    expect(decide(done("success"))).toMatchObject({ kind: "end", status: "succeeded" });
    expect(decide(done("failure"))).toMatchObject({ kind: "end", status: "failed", reason: "step_failed" });
  });

  it("changes nothing after the run ended", () => {
    const ended = log(created(), ["run.finished", { status: "cancelled", reason: "cancelled", message: null }], plan);
    const s = foldRun(ended);
    expect(s.status).toBe("cancelled");
    expect(s.plan).toBeNull();
    expect(decide(ended)).toEqual({ kind: "idle" });
  });
});
