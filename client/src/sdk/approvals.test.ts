import type { RunEvent } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { WaitingCalls, waitingCalls } from "./approvals.ts";

let seq = 0;
function ev<T extends RunEvent["type"]>(type: T, payload: Extract<RunEvent, { type: T }>["payload"]): RunEvent {
  return { seq: ++seq, type, source: "loop", at: "2026-01-01T00:00:00.000Z", v: 1, payload } as RunEvent;
}
const asked = (toolCallId: string, code = `print('${toolCallId}')`) =>
  ev("approval.requested", { step: 0, toolCallId, language: "python", code });
const decided = (toolCallId: string, approve: boolean) =>
  ev("approval.decided", { toolCallId, approve, reason: approve ? null : "no" });

describe("waitingCalls", () => {
  it("lists each call of a reply asked about, in order, until it is decided", () => {
    const files = [{ path: "helper.py", content: "VALUE = 1" }];
    const log = [
      ev("step.started", { step: 0 }),
      asked("call_1"),
      ev("approval.requested", { step: 0, toolCallId: "call_2", language: "bash", code: "ls", files }),
    ];
    expect(waitingCalls(log)).toEqual([
      { toolCallId: "call_1", step: 0, language: "python", code: "print('call_1')", files: [] },
      { toolCallId: "call_2", step: 0, language: "bash", code: "ls", files },
    ]);
    expect(waitingCalls([...log, decided("call_2", false)]).map((c) => c.toolCallId)).toEqual(["call_1"]);
    expect(waitingCalls([...log, decided("call_2", false), decided("call_1", true)])).toEqual([]);
  });

  it("leaves none once the run has ended", () => {
    const end = ev("run.finished", { status: "cancelled", reason: "cancelled", message: "cancelled by the caller" });
    expect(waitingCalls([asked("call_1"), asked("call_2"), end])).toEqual([]);
  });

  it("says whether an event changed what waits", () => {
    const waiting = new WaitingCalls();
    expect(waiting.add(asked("call_1"))).toBe(true);
    expect(waiting.add(ev("step.started", { step: 0 }))).toBe(false);
    expect(waiting.add(decided("call_9", true))).toBe(false);
    expect(waiting.size).toBe(1);
    expect(waiting.add(decided("call_1", true))).toBe(true);
    expect(waiting.size).toBe(0);
  });
});
