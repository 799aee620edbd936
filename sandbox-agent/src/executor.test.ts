import {
  AgentFrame,
  DEFAULT_LIMITS,
  type ExecStart,
  type ExecutionOutcome,
  newExecutionId,
  parseFrame,
} from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { Executor } from "./executor.ts";
import type { OutputSink, SandboxRuntime } from "./runtime/runtime.ts";

const succeeded = (files: ExecutionOutcome["files"] = []): ExecutionOutcome => ({
  status: "succeeded",
  exitCode: 0,
  signal: null,
  durationMs: 1,
  truncated: { stdout: false, stderr: false },
  files,
});

/** A runtime that prints `chunks` and is done at once, as a sandbox whose program outran its reader. */
function printing(chunks: string[], outcome = succeeded()): SandboxRuntime {
  return {
    warm: 0,
    reap: async () => 0,
    close: async () => {},
    run: async (_spec, sink: OutputSink) => {
      for (const chunk of chunks) sink("stdout", chunk);
      return outcome;
    },
  };
}

function start(window: number): ExecStart {
  return {
    type: "exec.start",
    executionId: newExecutionId(),
    language: "python",
    code: "",
    files: [],
    args: [],
    env: {},
    limits: DEFAULT_LIMITS,
    window,
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("the executor", () => {
  it("acknowledges first, then sends output and the outcome as the window allows, even after the sandbox is done", async () => {
    const executor = new Executor({
      runtime: printing(["a".repeat(600), "b".repeat(600)]),
      images: { python: "i" },
      capacity: 1,
    });
    const frames: AgentFrame[] = [];
    const frame = start(500);
    executor.start(frame, (text) => {
      const parsed = parseFrame(AgentFrame, text);
      if (!parsed.ok) throw new Error(parsed.message);
      frames.push(parsed.frame);
    });
    await settle();
    expect(frames.map((f) => f.type)).toEqual(["exec.accepted", "exec.output"]);
    expect(executor.inFlight).toBe(0); // the sandbox is done; its frames still wait
    executor.credit(frame.executionId, 10_000);
    expect(frames.map((f) => f.type)).toEqual(["exec.accepted", "exec.output", "exec.output", "exec.finished"]);
    expect(frames.map((f) => ("seq" in f ? f.seq : null))).toEqual([null, 0, 1, 2]);
  });

  it("sends returned files in pieces, as UTF-8 or base64 as they came, and waits for their frames before it is drained", async () => {
    const big = "é".repeat(300_000); // three UTF-8 pieces
    const executor = new Executor({
      runtime: printing(
        [],
        succeeded([
          { path: "text.txt", content: big, encoding: "utf8" },
          { path: "blob.bin", content: "AAEC", encoding: "base64" },
        ]),
      ),
      images: { python: "i" },
      capacity: 1,
    });
    const frames: AgentFrame[] = [];
    const frame = start(100);
    executor.start(frame, (text) => {
      const parsed = parseFrame(AgentFrame, text);
      if (!parsed.ok) throw new Error(parsed.message);
      frames.push(parsed.frame);
    });
    await settle();
    let drained = false;
    void executor.drain().then(() => (drained = true));
    await settle();
    expect(drained).toBe(false);
    for (let i = 0; i < 10; i++) executor.credit(frame.executionId, 1_000_000);
    await settle();
    expect(drained).toBe(true);
    const pieces = frames.filter((f) => f.type === "exec.file");
    expect(pieces.map((p) => [p.path, p.encoding, p.more])).toEqual([
      ["text.txt", "utf8", true],
      ["text.txt", "utf8", true],
      ["text.txt", "utf8", false],
      ["blob.bin", "base64", false],
    ]);
    expect(
      pieces
        .filter((p) => p.path === "text.txt")
        .map((p) => p.data)
        .join(""),
    ).toBe(big);
    expect(frames.at(-1)?.type).toBe("exec.finished");
  });

  it("drops what waits for window once the Worker cancels, so a drain is not held by credit that never comes", async () => {
    const executor = new Executor({ runtime: printing(["x".repeat(2_000)]), images: { python: "i" }, capacity: 1 });
    const frames: AgentFrame[] = [];
    const frame = start(500);
    executor.start(frame, (text) => {
      const parsed = parseFrame(AgentFrame, text);
      if (parsed.ok) frames.push(parsed.frame);
    });
    await settle();
    let drained = false;
    void executor.drain().then(() => (drained = true));
    await settle();
    expect(drained).toBe(false); // the output and outcome wait for window
    executor.cancel(frame.executionId);
    await settle();
    expect(drained).toBe(true);
    expect(frames.map((f) => f.type)).toEqual(["exec.accepted", "exec.output"]);
  });

  it("refuses what it has no room for with agent_busy, after acknowledging it", async () => {
    const never: SandboxRuntime = { ...printing([]), run: () => new Promise(() => {}) };
    const executor = new Executor({ runtime: never, images: { python: "i" }, capacity: 1 });
    const frames: AgentFrame[] = [];
    const push = (text: string) => {
      const parsed = parseFrame(AgentFrame, text);
      if (parsed.ok) frames.push(parsed.frame);
    };
    executor.start(start(1_000), push);
    executor.start(start(1_000), push);
    expect(frames.map((f) => f.type)).toEqual(["exec.accepted", "exec.accepted", "exec.finished"]);
    expect(frames[2]).toMatchObject({ outcome: { status: "error", error: { code: "agent_busy" } } });
  });
});
