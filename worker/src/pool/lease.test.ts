import { DEFAULT_LIMITS, type ExecFinished, type ExecOutput, newExecutionId } from "@edgeswarm/shared";
import { afterEach, describe, expect, it } from "vitest";
import { Lease } from "./lease.ts";

const executionId = newExecutionId();
const output = (seq: number): ExecOutput => ({ type: "exec.output", executionId, seq, stream: "stdout", data: "x" });
const leases: Lease[] = [];

function lease(window: number): Lease {
  const made = new Lease({ connId: "c", agentId: "a", limits: DEFAULT_LIMITS, window, timer: setTimeout(() => {}, 0) });
  leases.push(made);
  return made;
}

afterEach(() => {
  for (const l of leases.splice(0)) clearTimeout(l.timer);
});

describe("a lease's frames", () => {
  it("are an offence before exec.accepted, or out of order", () => {
    const l = lease(100);
    expect(l.take(output(0), 10)).toEqual({ offence: expect.stringContaining("before exec.accepted") });
    l.acked = true;
    expect(l.take(output(1), 10)).toEqual({ offence: expect.stringContaining("expected seq 0, got 1") });
    expect(l.take(output(0), 10)).toBeUndefined();
  });

  it("spend the window, may overdraw it by one frame, and go on once credit comes", () => {
    const l = lease(100);
    l.acked = true;
    expect(l.take(output(0), 60)).toBeUndefined();
    expect(l.take(output(1), 60)).toBeUndefined(); // 40 left: this one overdraws
    expect(l.take(output(2), 1)).toBe("overdrawn");
    l.credit(1_000);
    expect(l.take(output(3), 1)).toBeUndefined();
  });

  it("end with exec.finished, which needs no window", () => {
    const l = lease(1);
    l.acked = true;
    expect(l.take(output(0), 50)).toBeUndefined();
    const finished: ExecFinished = {
      type: "exec.finished",
      executionId,
      seq: 1,
      outcome: {
        status: "succeeded",
        exitCode: 0,
        signal: null,
        durationMs: 1,
        truncated: { stdout: false, stderr: false },
      },
    };
    expect(l.take(finished, 10)).toBeUndefined();
  });
});
