import type { RunEvent, RunEventOf } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FakeAnthropic } from "../fakes/anthropic.ts";
import { FakeModels } from "../fakes/models.ts";
import type { FakeOpenAI } from "../fakes/openai.ts";
import { reply } from "../fakes/server.ts";
import { createRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack } from "../harness/stack.ts";

// A hostile (or broken) model: replies that reuse or leave out tool-call ids,
// that are huge, or that carry hundreds of calls. Each run still ends by its
// limits, with an event that says what happened, and nothing it sent grows
// the run's log past its bounds.
let stack: Stack;
let models: FakeModels;
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;

beforeAll(async () => {
  models = await FakeModels.start("abuse-models");
  ({ anthropic, openai } = models);
  stack = await startStack("abuse-models", 1, 2, models.vars);
}, 120_000);
afterEach(() => {
  models?.reset();
  expect(anthropic.violations).toEqual([]);
  expect(openai.violations).toEqual([]);
});
afterAll(async () => {
  await stack?.stop();
  await models?.close();
});

const LOCAL = { provider: "openai-compatible", model: "local-model" } as const;

function ofType<T extends RunEvent["type"]>(events: RunEvent[], type: T): RunEventOf<T>[] {
  return events.filter((e) => e.type === type) as unknown as RunEventOf<T>[];
}

async function endsAtItsLimit(body: Parameters<typeof createRun>[1]) {
  const id = await createRun(stack.api, { planner: null, maxIterations: 3, timeoutMs: 60_000, ...body });
  const { view, events } = await runToEnd(stack.api, id, 45_000);
  expect(view).toMatchObject({ status: "failed", iterations: 3, error: { reason: "max_iterations" } });
  return events;
}

describe("a hostile model", () => {
  it("that repeats one tool-call id: each call is its own, and the run ends at maxIterations", async () => {
    anthropic.setDefault(reply.toolUse("run_code", { code: "print('again')" }, { id: "toolu_the_same_one" }));
    const events = await endsAtItsLimit({ task: "Loop." });
    const executions = ofType(events, "execution.finished");
    expect(executions).toHaveLength(3);
    expect(new Set(executions.map((e) => e.payload.toolCallId))).toEqual(new Set(["call_1", "call_2", "call_3"]));
    for (const reply of ofType(events, "coder.replied")) {
      expect(reply.payload.toolCalls[0]?.providerId).toBe("toolu_the_same_one");
    }
  });

  it("that sends no tool-call ids (an openai-compatible server): the run ends at maxIterations", async () => {
    openai.setDefault({ kind: "answer", toolCalls: [{ id: "", name: "run_code", input: { code: "print(1)" } }] });
    const events = await endsAtItsLimit({ task: "Loop.", coder: LOCAL });
    expect(ofType(events, "execution.finished")).toHaveLength(3);
  });

  it("that answers with 10 MB of text: its reply is kept cut, and the run goes on to its limit", async () => {
    anthropic.setDefault(reply.text("words ".repeat(1_750_000)));
    const events = await endsAtItsLimit({ task: "Talk." });
    for (const reply of ofType(events, "coder.replied")) {
      expect(reply.payload.text.length).toBeLessThan(70 * 1024);
      expect(reply.payload.text).toMatch(/…\(\d+ characters cut\)$/);
    }
    expect(ofType(events, "tool.rejected").length).toBeGreaterThan(0); // each text-only reply is nudged
  });

  it("that sends 5 MB of tool input: the call is rejected, saying why, without the input in the log", async () => {
    anthropic.setDefault(reply.toolUse("run_code", { code: `print(${"1".repeat(5 * 1024 * 1024)})` }));
    const events = await endsAtItsLimit({ task: "Huge." });
    const rejected = ofType(events, "tool.rejected");
    expect(rejected).toHaveLength(3);
    expect(rejected[0]?.payload.message).toContain("more than one reply may carry");
    for (const reply of ofType(events, "coder.replied")) {
      const [call] = reply.payload.toolCalls;
      expect(call?.input).toBeUndefined();
      expect(call?.oversized).toBeGreaterThan(5 * 1024 * 1024);
    }
    expect(ofType(events, "execution.finished")).toHaveLength(0);
  });

  it("that sends arguments that are not JSON: each call is rejected, and the run ends at its limit", async () => {
    openai.setDefault({ kind: "answer", toolCalls: [{ name: "run_code", rawArguments: '{"code": "print(1)' }] });
    const events = await endsAtItsLimit({ task: "Broken.", coder: LOCAL });
    const rejected = ofType(events, "tool.rejected");
    expect(rejected).toHaveLength(3);
    expect(rejected[0]?.payload.message).toContain("not valid JSON");
  });

  it("that makes 500 tool calls in one reply: 16 are kept, the rest dropped and said so, and it ends at its limit", async () => {
    anthropic.setDefault({
      kind: "answer",
      toolCalls: Array.from({ length: 500 }, (_, i) => ({ name: "run_code", input: { code: `print(${i})` } })),
    });
    const events = await endsAtItsLimit({ task: "Many." });
    const [first] = ofType(events, "coder.replied");
    expect(first?.payload.toolCalls).toHaveLength(16);
    expect(first?.payload.droppedToolCalls).toBe(484);
    const executions = ofType(events, "execution.finished");
    expect(executions.map((e) => e.payload.stdout)).toEqual(["0\n", "1\n", "2\n"]);
  });
});
