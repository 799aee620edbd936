import type { PayloadOf, RunEvent } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { toMessages as openaiMessages } from "../models/openai.ts";
import { foldRun } from "../run/state.ts";
import { type LogItem, log, created as runCreated } from "../run/test-log.ts";
import { CODER_SYSTEM, conversation } from "./coder.ts";

const created = (context?: PayloadOf<"run.created">["context"]) =>
  runCreated({ maxIterations: 20, files: ["data.csv"], ...(context ? { context } : {}) });

/** A step whose coder ran `n` programs, each printing 40 KB and writing out-<i>.txt. */
function turns(n: number, context?: PayloadOf<"run.created">["context"]): RunEvent[] {
  const items: LogItem[] = [
    created(context),
    ["plan.created", { steps: [{ goal: "g", successCriterion: "c" }], skipped: true, usage: null }],
    ["step.started", { step: 0 }],
  ];
  for (let i = 1; i <= n; i++) {
    const id = `call_${i}`;
    const input = { code: `print(${i})`, files: [{ path: `in-${i}.txt`, content: "z".repeat(5000) }] };
    items.push(
      [
        "coder.replied",
        { step: 0, text: "", toolCalls: [{ id, name: "run_code", input }], usage: { inputTokens: 1, outputTokens: 1 } },
      ],
      [
        "execution.finished",
        {
          step: 0,
          iteration: i,
          toolCallId: id,
          executionId: null,
          agentId: null,
          language: "python",
          status: "failed",
          exitCode: 1,
          signal: null,
          durationMs: 5,
          stdout: "y".repeat(40_000),
          stderr: "Traceback (most recent call last):\n  File x\nValueError: bad",
          truncated: { stdout: false, stderr: false },
          files: [`out-${i}.txt`],
          error: null,
        },
      ],
    );
  }
  return log(...items);
}

describe("the coder's conversation", () => {
  it("sends results older than the last 3 turns as digests: status, exit code, traceback tail, sizes", () => {
    const messages = conversation(foldRun(turns(5)));
    const results = messages.flatMap((m) => (m.role === "tool" ? m.results.map((r) => r.content) : []));
    expect(results).toHaveLength(5);
    for (const old of results.slice(0, 2)) {
      expect(old).toContain("(digest of an earlier result) status: failed, exit code 1");
      expect(old).toContain("stdout: 40000 characters");
      expect(old).toContain("ValueError: bad");
      expect(old.length).toBeLessThan(400);
    }
    for (const recent of results.slice(2)) expect(recent).toContain("stdout:\nyyyy");
    // An old call's files are named by size; the code stays.
    const calls = messages.flatMap((m) => (m.role === "assistant" ? m.toolCalls : []));
    expect(calls[0]?.input).toEqual({
      code: "print(1)",
      files: [{ path: "in-1.txt", content: "(5000 characters; the file is in the workspace)" }],
    });
    expect(JSON.stringify(calls[4]?.input)).toContain("z".repeat(5000));
  });

  it("keeps a digest short whatever the program printed: one long line, many files", () => {
    const s = foldRun(turns(5));
    const first = s.outcomes.get("call_1");
    if (first?.kind !== "executed") throw new Error("call_1 was not executed");
    first.result.stderr = "x".repeat(60_000);
    first.result.files = Array.from({ length: 100 }, (_, i) => `${"d/".repeat(60)}f${i}`);
    const [digest] = conversation(s).flatMap((m) => (m.role === "tool" ? m.results.map((r) => r.content) : []));
    expect(digest?.length).toBeLessThan(2_000);
    expect(digest).toContain("and 90 more");
  });

  it("repeats the last request byte for byte up to its breakpoint, which the next one reads", () => {
    for (let n = 1; n <= 8; n++) {
      const before = conversation(foldRun(turns(n)));
      const after = conversation(foldRun(turns(n + 1)));
      const at = before.findIndex((m) => m.cacheBreakpoint);
      expect(before.filter((m) => m.cacheBreakpoint)).toHaveLength(1);
      const strip = (m: object) => JSON.stringify({ ...m, cacheBreakpoint: undefined });
      expect(after.slice(0, at + 1).map(strip)).toEqual(before.slice(0, at + 1).map(strip));
    }
  });

  it("gives OpenAI's automatic cache a byte-stable prefix: each request starts as the last one did", () => {
    for (let n = 1; n <= 8; n++) {
      const before = openaiMessages(CODER_SYSTEM, conversation(foldRun(turns(n)))).map((m) => JSON.stringify(m));
      const after = openaiMessages(CODER_SYSTEM, conversation(foldRun(turns(n + 1)))).map((m) => JSON.stringify(m));
      // The system prompt, the briefing, and every turn up to the first result digested since.
      const digested = Math.max(0, n + 1 - 3);
      const stable = 2 + Math.max(0, digested - 1) * 2;
      expect(after.slice(0, stable)).toEqual(before.slice(0, stable));
    }
  });

  it("names the workspace as the step began, whatever the executions wrote since", () => {
    const first = conversation(foldRun(turns(1)));
    const later = conversation(foldRun(turns(4)));
    expect(first[0]).toEqual(later[0]);
    expect(first[0]).toMatchObject({ role: "user", content: expect.stringContaining("Workspace files: data.csv") });
  });

  it("with digests off, sends every result whole and marks the newest turn", () => {
    const messages = conversation(foldRun(turns(6, { promptCache: true, fullTurns: null })));
    const results = messages.flatMap((m) => (m.role === "tool" ? m.results.map((r) => r.content) : []));
    expect(results.every((r) => r.includes("stdout:\nyyyy"))).toBe(true);
    expect(messages.findIndex((m) => m.cacheBreakpoint)).toBe(messages.length - 1);
  });
});
