import type { RunEvent } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { eventLine } from "./event-line.ts";
import { ProgressView } from "./progress.ts";

const RUN = "run_0123456789abcdef01234567";
let seq = 0;
function ev<T extends RunEvent["type"]>(type: T, payload: Extract<RunEvent, { type: T }>["payload"]): RunEvent {
  return { seq: ++seq, type, source: "loop", at: "2026-01-01T00:00:00.000Z", v: 1, payload } as RunEvent;
}

const finishedPayload: Extract<RunEvent, { type: "execution.finished" }>["payload"] = {
  step: 0,
  iteration: 1,
  toolCallId: "t1",
  executionId: null,
  agentId: "a",
  language: "python",
  status: "failed",
  exitCode: 1,
  signal: null,
  durationMs: 1500,
  stdout: "",
  stderr: "Traceback",
  truncated: { stdout: false, stderr: false },
  files: [],
  error: null,
};
const finished = ev("execution.finished", finishedPayload);

describe("eventLine", () => {
  it("says what happened in one line, counting steps from 1", () => {
    expect(eventLine(ev("step.started", { step: 0 }), RUN)).toMatch(/^#\d+ step\.started {2}step 1$/);
    expect(eventLine(finished, RUN)).toBe(
      `#${finished.seq} execution.finished  iteration 1: python failed (exit 1) in 1.5 s`,
    );
    const parked = ev("approval.requested", { step: 0, toolCallId: "t", language: "python", code: "print(1)" });
    expect(eventLine(parked, RUN)).toBe(
      `#${parked.seq} approval.requested  step 1: python code of t waits for approval (edgeswarm runs approve ${RUN} --call t)`,
    );
    const denied = ev("approval.decided", { toolCallId: "call_2", approve: false, reason: "too\nrisky" });
    expect(eventLine(denied, RUN)).toBe(`#${denied.seq} approval.decided  denied call_2: too risky`);
    const end = ev("run.finished", { status: "failed", reason: "max_iterations", message: "8 executions" });
    expect(eventLine(end, RUN)).toMatch(/run\.finished {2}failed \(max_iterations\): 8 executions$/);
  });
});

describe("eventLine: live output", () => {
  const output = (data: string, cut?: true) =>
    ev("execution.output", {
      executionId: "exec_1",
      toolCallId: "call_1",
      stream: "stdout",
      data,
      ...(cut ? { cut } : {}),
    });

  it("prints each line of the data under the event's head, with its call and stream", () => {
    const e = output("first\nsecond\n");
    expect(eventLine(e, RUN).split("\n")).toEqual([
      `#${e.seq} execution.output  call_1 stdout| first`,
      `#${e.seq} execution.output  call_1 stdout| second`,
    ]);
    const err = ev("execution.output", { executionId: "x", toolCallId: "call_2", stream: "stderr", data: "oops" });
    expect(eventLine(err, RUN)).toBe(`#${err.seq} execution.output  call_2 stderr| oops`);
  });

  it("makes the program's escape sequences visible, and says when the log was cut", () => {
    const e = output("\u001b]0;owned\u0007\u001b[2Jtext\r\n", true);
    expect(eventLine(e, RUN).split("\n")).toEqual([
      `#${e.seq} execution.output  call_1 stdout| \\x1b]0;owned\\x07\\x1b[2Jtext\\x0d`,
      `#${e.seq} execution.output  call_1 cut: the log keeps no more of its output; execution.finished has the rest`,
    ]);
  });

  it("names the files an execution wrote", () => {
    const wrote = ev("execution.finished", { ...finishedPayload, files: ["plot.png", "out/\u001bx.csv"] });
    expect(eventLine(wrote, RUN)).toMatch(/in 1\.5 s; wrote plot\.png, out\/\\x1bx\.csv$/);
  });
});

describe("ProgressView", () => {
  it("draws the plan, step, iteration, executions and tokens, redrawing over its last frame", () => {
    const frames: string[] = [];
    const view = new ProgressView(
      RUN,
      (t) => frames.push(t),
      () => 200,
    );
    view.update(
      ev("plan.created", {
        steps: [
          { goal: "Write it", successCriterion: "written" },
          { goal: "Print it", successCriterion: "printed" },
        ],
        skipped: false,
        usage: { inputTokens: 7, outputTokens: 3 },
      }),
    );
    view.update(ev("step.started", { step: 0 }));
    view.update(finished);
    view.update(ev("step.finished", { step: 0, summary: "ok", code: "", verdict: "success" }));
    view.update(ev("step.started", { step: 1 }));
    expect(view.lines()).toEqual([
      `run ${RUN}  running`,
      " ✓ 1. Write it",
      " ▶ 2. Print it",
      "step 2/2  iteration 1  tokens 7 in / 3 out",
      "  #1 failed 1.5 s",
    ]);
    // Each frame after the first moves up over the previous one and clears it.
    expect(frames[0]?.startsWith("\x1b")).toBe(false);
    expect(frames.at(-1)?.startsWith("\x1b[5F\x1b[J")).toBe(true);
  });

  it("cuts lines to the terminal width", () => {
    const view = new ProgressView(
      RUN,
      () => {},
      () => 30,
    );
    view.update(
      ev("plan.created", { steps: [{ goal: "x".repeat(100), successCriterion: "y" }], skipped: false, usage: null }),
    );
    for (const line of view.lines()) expect(line.length).toBeLessThanOrEqual(30);
  });

  it("shows the running execution's last lines, each cut to the width, until it finishes", () => {
    const view = new ProgressView(
      RUN,
      () => {},
      () => 40,
    );
    view.update(ev("execution.started", { toolCallId: "call_1", executionId: "exec_1", agentId: "agent-1" }));
    const data = `${Array.from({ length: 8 }, (_, i) => `line ${i + 1}`).join("\n")}\n${"z".repeat(100)}\u001b[2J`;
    view.update(ev("execution.output", { executionId: "exec_1", toolCallId: "call_1", stream: "stdout", data }));
    const lines = view.lines();
    expect(lines.slice(-6)).toEqual([
      "  ▶ call_1 running on agent-1",
      "  │ line 5",
      "  │ line 6",
      "  │ line 7",
      "  │ line 8",
      `  │ ${"z".repeat(35)}…`,
    ]);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
    expect(lines.join("\n")).not.toContain("\u001b");

    view.update(ev("execution.finished", { ...finishedPayload, toolCallId: "call_1", executionId: "exec_1" }));
    expect(view.lines().join("\n")).not.toMatch(/running on|│/);
  });

  it("names every running call but shows the lines of the one that printed last", () => {
    const view = new ProgressView(
      RUN,
      () => {},
      () => 200,
    );
    for (const n of [1, 2]) {
      view.update(ev("execution.started", { toolCallId: `call_${n}`, executionId: `exec_${n}`, agentId: "a" }));
    }
    const print = (n: number, data: string) =>
      view.update(
        ev("execution.output", { executionId: `exec_${n}`, toolCallId: `call_${n}`, stream: "stdout", data }),
      );
    print(1, "from one\n");
    print(2, "from two\n");
    expect(view.lines().slice(-4)).toEqual([
      "  ▶ call_1 running on a",
      "  ▶ call_2 running on a",
      "  output of call_2:",
      "  │ from two",
    ]);
    view.update(
      ev("execution.retry", { toolCallId: "call_2", attempt: 1, reason: "agent_lost", delayMs: 0, message: "lost" }),
    );
    expect(view.lines().join("\n")).not.toContain("call_2 running");
    expect(view.lines().join("\n")).not.toContain("│");
  });

  it("lists each call waiting for approval until it is decided, and stays awaiting until all are", () => {
    const view = new ProgressView(
      RUN,
      () => {},
      () => 200,
    );
    const ask = (n: number, code: string) =>
      view.update(ev("approval.requested", { step: 0, toolCallId: `call_${n}`, language: "python", code }));
    ask(1, "print('kept')");
    ask(2, "import shutil\nshutil.rmtree('/workspace')");
    expect(view.lines()[0]).toBe(`run ${RUN}  awaiting_approval`);
    expect(view.lines().slice(-4)).toEqual([
      "waiting for approval of 2 calls:",
      "  ? call_1  python, step 1: print('kept')",
      "  ? call_2  python, step 1: import shutil shutil.rmtree('/workspace')",
      `decide: edgeswarm runs approve ${RUN} --call <toolCallId>`,
    ]);
    view.update(ev("approval.decided", { toolCallId: "call_2", approve: false, reason: null }));
    expect(view.lines()[0]).toBe(`run ${RUN}  awaiting_approval`);
    expect(view.lines().slice(-3)).toEqual([
      "waiting for approval of 1 call:",
      "  ? call_1  python, step 1: print('kept')",
      `decide: edgeswarm runs approve ${RUN}`,
    ]);
    view.update(ev("approval.decided", { toolCallId: "call_1", approve: true, reason: null }));
    expect(view.lines()[0]).toBe(`run ${RUN}  running`);
    expect(view.lines().join("\n")).not.toContain("waiting for approval");
  });
});
