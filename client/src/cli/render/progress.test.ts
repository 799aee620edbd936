import type { RunEvent } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { eventLine } from "./event-line.ts";
import { ProgressView } from "./progress.ts";

const RUN = "run_0123456789abcdef01234567";
let seq = 0;
function ev<T extends RunEvent["type"]>(type: T, payload: Extract<RunEvent, { type: T }>["payload"]): RunEvent {
  return { seq: ++seq, type, source: "loop", at: "2026-01-01T00:00:00.000Z", v: 1, payload } as RunEvent;
}

const finished = ev("execution.finished", {
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
});

describe("eventLine", () => {
  it("says what happened in one line, counting steps from 1", () => {
    expect(eventLine(ev("step.started", { step: 0 }), RUN)).toMatch(/^#\d+ step\.started {2}step 1$/);
    expect(eventLine(finished, RUN)).toBe(
      `#${finished.seq} execution.finished  iteration 1: python failed (exit 1) in 1.5 s`,
    );
    const parked = ev("approval.requested", { step: 0, toolCallId: "t", language: "python", code: "print(1)" });
    expect(eventLine(parked, RUN)).toContain(`edgeswarm runs approve ${RUN}`);
    const end = ev("run.finished", { status: "failed", reason: "max_iterations", message: "8 executions" });
    expect(eventLine(end, RUN)).toMatch(/run\.finished {2}failed \(max_iterations\): 8 executions$/);
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
});
