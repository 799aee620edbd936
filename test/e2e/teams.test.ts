import type { RunEvent, RunEventOf, RunEventType, RunRequestInput, TeamInput } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../scripts/lib/wait.ts";
import type { FakeAnthropic } from "../fakes/anthropic.ts";
import { FakeModels } from "../fakes/models.ts";
import type { FakeOpenAI } from "../fakes/openai.ts";
import { type RecordedRequest, reply } from "../fakes/server.ts";
import { createRun, followRun, getRun, runToEnd } from "../harness/runs.ts";
import { sseData } from "../harness/sse.ts";
import { type Stack, startStack } from "../harness/stack.ts";

// Teams end to end (issue 14): the real Worker and agents, real Docker, and fake
// model servers that the real SDKs talk to over HTTP.
let stack: Stack;
let models: FakeModels;
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;

beforeAll(async () => {
  models = await FakeModels.start("e2e-teams");
  ({ anthropic, openai } = models);
  stack = await startStack("e2e-teams", 1, 2, models.vars);
});
afterEach(() => {
  models?.reset();
});
afterAll(async () => {
  await stack?.stop();
  await models?.close();
});

const OPENAI_MINI = { provider: "openai", model: "gpt-4o-mini" } as const;

function of<T extends RunEventType>(events: RunEvent[], type: T): RunEventOf<T>[] {
  return events.filter((e) => e.type === type) as unknown as RunEventOf<T>[];
}

const speakers = (events: RunEvent[]) => of(events, "team.message").map((e) => e.payload.speaker);
/** A request's body as text, for what it carries. */
const text = (r: RecordedRequest | undefined) => JSON.stringify(r?.body ?? null);
/** The names of the tools a request offered. */
const toolNames = (r: RecordedRequest | undefined) =>
  ((r?.body ?? {}) as { tools?: { name: string }[] }).tools?.map((t) => t.name) ?? [];
/** The requests (since `from`) whose conversation says it is `name`'s turn. */
const turnsOf = (fake: { requests: RecordedRequest[] }, name: string, from = 0) =>
  fake.requests.slice(from).filter((r) => text(r).includes(`You are ${name}. It is your turn.`));

async function teamRun(task: string, team: TeamInput, extra: Partial<RunRequestInput> = {}) {
  const id = await createRun(stack.api, { task, team, ...extra });
  return { id, ...(await runToEnd(stack.api, id, 60_000)) };
}

/** Follows a run (after seq `after`) until an event passes `until`; returns the events so far. */
async function eventsUntil(id: string, until: (e: RunEvent) => boolean, after = 0): Promise<RunEvent[]> {
  const seen: RunEvent[] = [];
  await within(
    (async () => {
      for await (const e of followRun(stack.api, id, { lastEventId: after })) {
        seen.push(e);
        if (until(e)) return;
      }
    })(),
    60_000,
    `run ${id}: the awaited event`,
  );
  return seen;
}

async function send(id: string, message: string) {
  const res = await stack.api.raw(`/v1/runs/${id}/messages`, JSON.stringify({ text: message }));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("round_robin", () => {
  it("a reviewer asks for a fix, the coder re-runs, and APPROVE ends the run", async () => {
    const before = anthropic.requests.length;
    anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "print(1 + 1)" }),
      reply.text("It prints 2."),
      reply.text("Print it with a label: 'total: 2'."),
      reply.toolUse("run_code", { language: "python", code: "print('total:', 1 + 1)" }),
      reply.text("Now it prints the label."),
      reply.text("APPROVE"),
    );
    const { view, events } = await teamRun("Print the sum of 1 and 1.", {
      kind: "round_robin",
      participants: [
        { name: "coder", role: "coder" },
        { name: "reviewer", role: "assistant", instructions: "Reply APPROVE when the coder's last run is right." },
      ],
      termination: { any: [{ textMention: "APPROVE", sources: ["reviewer"] }, { maxMessages: 30 }] },
    });
    expect(view.error).toBeNull();
    expect(view.status).toBe("succeeded");
    expect(view.result?.stoppedBy).toEqual([{ textMention: "APPROVE", sources: ["reviewer"] }]);
    expect(view.result).toMatchObject({ summary: "APPROVE", stdout: "total: 2\n", code: "print('total:', 1 + 1)" });
    expect(speakers(events)).toEqual(["coder", "reviewer", "coder", "reviewer"]);
    expect(of(events, "execution.finished").map((e) => e.payload.stdout)).toEqual(["2\n", "total: 2\n"]);
    // The coder's message carries its call's summary, for the others.
    expect(of(events, "team.message")[0]?.payload.toolCalls).toEqual([
      expect.objectContaining({ name: "run_code", status: "succeeded", exitCode: 0, stdout: "2\n" }),
    ]);

    // The reviewer read what the coder's programs printed, and its own instructions.
    const reviews = turnsOf(anthropic, "reviewer", before);
    expect(reviews).toHaveLength(2);
    expect(text(reviews[0])).toContain("run_code (call_1): succeeded, exit code 0");
    expect(text(reviews[0])).toContain("Reply APPROVE when the coder's last run is right.");
    expect(text(reviews[1])).toContain("total: 2");
    // The coder's second turn saw the reviewer's request; it was given run_code, the reviewer no tool.
    const coderTurns = turnsOf(anthropic, "coder", before);
    expect(text(coderTurns.at(-2))).toContain("Print it with a label");
    expect(toolNames(coderTurns[0])).toEqual(["run_code"]);
    expect(toolNames(reviews[0])).toEqual([]);
    expect(view.usage.team?.reviewer?.inputTokens).toBeGreaterThan(0);
  });
});

describe("roles", () => {
  it("a planner participant plans through structured output; a team coder's calls wait for approval", async () => {
    openai.enqueue(reply.structured({ steps: [{ goal: "print 7", successCriterion: "7 is printed" }] }));
    anthropic.enqueue(reply.toolUse("run_code", { language: "python", code: "print(7)" }), reply.text("Printed 7."));
    const before = anthropic.requests.length;
    const id = await createRun(stack.api, {
      task: "Print seven.",
      approval: "always",
      team: {
        kind: "round_robin",
        participants: [
          { name: "lead", role: "planner", instructions: "Plan in one step." },
          { name: "coder", role: "coder" },
        ],
        termination: { maxMessages: 2 },
      },
    });
    const asked = await eventsUntil(id, (e) => e.type === "approval.requested");
    expect(of(asked, "team.message")[0]?.payload).toMatchObject({
      speaker: "lead",
      plan: [{ goal: "print 7", successCriterion: "7 is printed" }],
    });
    expect((await getRun(stack.api, id)).status).toBe("awaiting_approval");
    const approved = await stack.api.raw(`/v1/runs/${id}/approval`, JSON.stringify({ approve: true }));
    expect(approved.status).toBe(200);
    const { view, events } = await runToEnd(stack.api, id, 60_000);
    expect(view.status).toBe("succeeded");
    expect(speakers(events)).toEqual(["lead", "coder"]);
    expect(of(events, "execution.finished").map((e) => e.payload.stdout)).toEqual(["7\n"]);
    // The planner's instructions reached it; its plan reached the coder.
    expect(JSON.stringify(openai.requests.at(-1)?.body)).toContain("Plan in one step.");
    expect(text(anthropic.requests[before])).toContain("lead: Plan:\\n1. print 7");
  });
});

describe("selector", () => {
  it("follows the selector's picks; invalid picks are retried 3 times, then the next in turn speaks", async () => {
    const before = openai.requests.length;
    openai.enqueue(
      reply.text("critic"),
      reply.text("nobody"),
      reply.text("writer or critic"),
      reply.text(""),
      reply.text("the editor"),
    );
    anthropic.enqueue(reply.text("The draft is too long."), reply.text("Shorter draft."));
    const { view, events } = await teamRun("Write a haiku about rain.", {
      kind: "selector",
      participants: [
        { name: "writer", role: "assistant", description: "writes drafts" },
        { name: "critic", role: "assistant", description: "criticises drafts" },
      ],
      selector: { model: OPENAI_MINI },
      termination: { maxMessages: 2 },
    });
    expect(view.status).toBe("succeeded");
    expect(view.result?.stoppedBy).toEqual([{ maxMessages: 2 }]);
    const picks = of(events, "team.selected").map((e) => [e.payload.speaker, e.payload.by, e.payload.attempt]);
    expect(picks).toEqual([
      ["critic", "selector", 1],
      [null, "selector", 1],
      [null, "selector", 2],
      [null, "selector", 3],
      [null, "selector", 4],
      ["writer", "fallback", 5],
    ]);
    expect(of(events, "team.selected")[2]?.payload.said).toBe("writer or critic");
    // The picks were followed: the critic first, then (the fallback) the writer.
    expect(speakers(events)).toEqual(["critic", "writer"]);
    // The selector's requests list the participants with their descriptions.
    const first = text(openai.requests[before]);
    expect(first).toContain("writer (assistant): writes drafts");
    expect(first).toContain("critic (assistant): criticises drafts");
    // A retry says what the earlier answer was.
    expect(text(openai.requests[before + 2])).toContain("nobody");
  });
});

describe("swarm", () => {
  it("hands off to the tester and back; a handoff to the user parks the run until a message", async () => {
    anthropic.enqueue(
      reply.toolUse("transfer_to_tester", {}, { text: "Please test: 2 + 2." }),
      reply.toolUse("run_code", { language: "python", code: "assert 2 + 2 == 4\nprint('ok')" }),
      reply.toolUse("transfer_to_coder", {}, { text: "The test passes." }),
      reply.toolUse("transfer_to_user", {}, { text: "Which file should I write?" }),
    );
    const team: TeamInput = {
      kind: "swarm",
      participants: [
        { name: "coder", role: "coder", handoffs: ["tester", "user"] },
        { name: "tester", role: "coder", handoffs: ["coder"] },
      ],
      termination: { textMention: "DONE" },
    };
    const id = await createRun(stack.api, { task: "Check 2 + 2, then write a file.", team });
    const parked = await eventsUntil(id, (e) => e.type === "team.message" && e.payload.handoff === "user");
    expect(of(parked, "team.message").map((e) => [e.payload.speaker, e.payload.handoff])).toEqual([
      ["coder", "tester"],
      ["tester", "coder"],
      ["coder", "user"],
    ]);
    expect(of(parked, "execution.finished").map((e) => e.payload.stdout)).toEqual(["ok\n"]);
    const waiting = await getRun(stack.api, id);
    expect(waiting.status).toBe("awaiting_input");
    expect(waiting.team).toMatchObject({ kind: "swarm", next: "coder" });
    // The coder was offered its handoffs as tools.
    expect(toolNames(turnsOf(anthropic, "coder").at(-1))).toEqual([
      "run_code",
      "transfer_to_tester",
      "transfer_to_user",
    ]);

    const before = anthropic.requests.length;
    anthropic.enqueue(reply.text("Wrote answer.txt. DONE"));
    const sent = await send(id, "Write answer.txt, please.");
    expect(sent.status).toBe(200);
    const { view, events } = await runToEnd(stack.api, id, 60_000);
    expect(view.status).toBe("succeeded");
    expect(view.result?.stoppedBy).toEqual([{ textMention: "DONE" }]);
    expect(text(anthropic.requests[before])).toContain("Write answer.txt, please.");
    expect(text(anthropic.requests[before])).toContain("You are coder. It is your turn.");
    expect(speakers(events)).toEqual(["coder", "tester", "coder", "user", "coder"]);
  });
});

describe("magentic_one", () => {
  const progress = (o: { satisfied?: boolean; progress?: boolean; next: string; instruction: string }) =>
    reply.structured({
      is_request_satisfied: { reason: o.satisfied ? "it is done" : "not yet", answer: o.satisfied ?? false },
      is_in_loop: { reason: "no", answer: false },
      is_progress_being_made: { reason: "r", answer: o.progress ?? true },
      next_speaker: { reason: "fits", answer: o.next },
      instruction: { reason: "next", answer: o.instruction },
    });

  it("follows the progress ledger's next speaker, re-plans after 3 stalls, and ends when satisfied", async () => {
    const before = openai.requests.length;
    const spoken = anthropic.requests.length;
    openai.enqueue(
      reply.structured({ facts: "a haiku has 3 lines", plan: "- writer drafts\n- critic checks" }),
      progress({ next: "writer", instruction: "Draft the haiku." }),
      progress({ progress: false, next: "critic", instruction: "Check the draft." }),
      progress({ progress: false, next: "critic", instruction: "Check it again." }),
      progress({ progress: false, next: "writer", instruction: "Try once more." }),
      reply.structured({ facts: "the critic is stuck", plan: "- writer finishes alone" }),
      progress({ satisfied: true, next: "writer", instruction: "" }),
    );
    anthropic.enqueue(reply.text("Rain on the roof..."), reply.text("Hmm."), reply.text("Hmm again."));
    const { view, events } = await teamRun("Write a haiku about rain.", {
      kind: "magentic_one",
      participants: [
        { name: "writer", role: "assistant" },
        { name: "critic", role: "assistant" },
      ],
      orchestrator: { model: OPENAI_MINI },
    });
    expect(view.error).toBeNull();
    expect(view.status).toBe("succeeded");
    expect(view.result?.stoppedBy).toEqual([{ requestSatisfied: "it is done" }]);
    const ledgers = of(events, "team.ledger").map((e) =>
      e.payload.kind === "task" ? ["task", e.payload.replan] : ["progress", e.payload.speaker, e.payload.stalls],
    );
    expect(ledgers).toEqual([
      ["task", false],
      ["progress", "writer", 0],
      ["progress", "critic", 1],
      ["progress", "critic", 2],
      ["progress", "writer", 3],
      ["task", true],
      ["progress", "writer", 0],
    ]);
    // Each progress ledger's next speaker spoke; the third stall re-planned instead.
    expect(speakers(events)).toEqual(["writer", "critic", "critic"]);
    // The ledgers were asked for as structured output, and the instruction reached the speaker.
    const formats = openai.requests
      .slice(before)
      .map(
        (r) => (r.body as { response_format?: { json_schema?: { name?: string } } }).response_format?.json_schema?.name,
      );
    expect(formats).toEqual([
      "task_ledger",
      "progress_ledger",
      "progress_ledger",
      "progress_ledger",
      "progress_ledger",
      "task_ledger",
      "progress_ledger",
    ]);
    expect(text(turnsOf(anthropic, "writer", spoken)[0])).toContain("orchestrator (to writer): Draft the haiku.");
    expect(text(openai.requests[before + 5])).toContain("The team has stalled");
  });
});

describe("termination", () => {
  const chatters: TeamInput["participants"] = [
    { name: "ann", role: "assistant" },
    { name: "bob", role: "assistant" },
  ];

  it("all: ends only once every condition is met, and names each", async () => {
    anthropic.enqueue(reply.text("READY"), reply.text("b1"), reply.text("a2"), reply.text("b2"));
    const { view, events } = await teamRun("Chat.", {
      kind: "round_robin",
      participants: chatters,
      termination: { all: [{ textMention: "READY" }, { maxMessages: 3 }] },
    });
    expect(view.status).toBe("succeeded");
    expect(speakers(events)).toEqual(["ann", "bob", "ann"]);
    expect(view.result?.stoppedBy).toEqual([{ textMention: "READY" }, { maxMessages: 3 }]);
  });

  it("any with tokenUsage: the first condition met ends it", async () => {
    const usage = { input: 10, output: 5 };
    anthropic.enqueue(reply.text("a1", usage), reply.text("b1", usage), reply.text("a2", usage), reply.text("x"));
    const { view, events } = await teamRun("Chat.", {
      kind: "round_robin",
      participants: chatters,
      termination: { any: [{ tokenUsage: 40 }, { maxMessages: 10 }, { functionCall: "run_code" }] },
    });
    expect(view.status).toBe("succeeded");
    expect(speakers(events)).toEqual(["ann", "bob", "ann"]);
    expect(view.result?.stoppedBy).toEqual([{ tokenUsage: 40 }]);
    expect(view.usage.total).toMatchObject({ inputTokens: 30, outputTokens: 15 });
  });

  it("a team without a termination stops at the default maxMessages; the run's own limits still hold", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "print(1)" }),
      reply.toolUse("run_code", { language: "python", code: "print(2)" }),
    );
    const id = await createRun(stack.api, {
      task: "Loop.",
      maxIterations: 1,
      team: { kind: "round_robin", participants: [{ name: "coder", role: "coder" }] },
    });
    const { view, events } = await runToEnd(stack.api, id, 60_000);
    expect(of(events, "run.created")[0]?.payload.team).toMatchObject({
      termination: { maxMessages: 50 },
      defaultTermination: true,
    });
    expect(view.status).toBe("failed");
    expect(view.error?.reason).toBe("max_iterations");
    expect(view.result).toBeNull();
  });
});

describe("follow-up messages", () => {
  it("continues an ended run with the workspace of its first turn; 409 while it works", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "open('a.txt', 'w').write('first turn')" }),
      reply.toolUse("finish", { summary: "wrote a.txt", code: "", verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Write a.txt.", planner: null });
    const first = await runToEnd(stack.api, id, 60_000);
    expect(first.view.status).toBe("succeeded");

    const inFlight = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    anthropic.enqueue(
      async () => {
        inFlight.resolve();
        await release.promise;
        return reply.toolUse("run_code", { language: "python", code: "print(open('a.txt').read())" });
      },
      reply.toolUse("finish", { summary: "read a.txt back", code: "", verdict: "success" }),
    );
    const before = anthropic.requests.length;
    expect((await send(id, "Now print a.txt.")).status).toBe(200);
    await within(inFlight.promise, 30_000, "the continued run's first model call");
    const busy = await send(id, "And again.");
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ error: { code: "invalid_state" } });
    release.resolve();

    const end = first.events.at(-1)?.seq ?? 0;
    const later = await eventsUntil(id, (e) => e.type === "run.finished", end);
    const view = await getRun(stack.api, id);
    const events = [...first.events, ...later];
    expect(view.status).toBe("succeeded");
    expect(view.result?.stdout).toBe("first turn\n");
    // spanId: the new turn's workflow span (test/e2e/tracing.test.ts follows it).
    expect(of(events, "run.continued").map((e) => e.payload)).toEqual([
      { text: "Now print a.txt.", turn: 1, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) },
    ]);
    // The new turn's briefing names the new task, the earlier one, and the first turn's file.
    const briefing = text(anthropic.requests[before]);
    expect(briefing).toContain("Now print a.txt.");
    expect(briefing).toContain("Earlier requests in this run");
    expect(briefing).toContain("a.txt");
    expect(of(events, "run.finished")).toHaveLength(2);
    // One SSE stream serves both turns: it goes on past the first end, and closes after the last.
    const res = await fetch(`${stack.api.url}/v1/runs/${id}/events`, {
      headers: stack.api.headers({ Accept: "text/event-stream" }),
    });
    const streamed = await within(
      (async () => {
        const all: RunEvent[] = [];
        if (res.body) for await (const { data } of sseData(res.body)) all.push(data as RunEvent);
        return all;
      })(),
      30_000,
      "the stream of a continued run to close",
    );
    expect(streamed.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
  });
});

describe("state", () => {
  it("GET /state exports the conversation, and fromState continues it in a new run", async () => {
    anthropic.enqueue(reply.text("The answer is 42."), reply.text("Agreed: 42."));
    const team: TeamInput = {
      kind: "round_robin",
      participants: [
        { name: "ann", role: "assistant" },
        { name: "bob", role: "assistant" },
      ],
      termination: { maxMessages: 2 },
    };
    const { id, view } = await teamRun("What is six times seven?", team);
    expect(view.status).toBe("succeeded");
    const res = await stack.api.get(`/v1/runs/${id}/state`);
    expect(res.status).toBe(200);
    const state = (await res.json()) as Record<string, unknown>;
    expect(state).toMatchObject({
      version: 1,
      tasks: ["What is six times seven?"],
      messages: [
        { speaker: "ann", text: "The answer is 42." },
        { speaker: "bob", text: "Agreed: 42." },
      ],
      manager: { kind: "round_robin", next: "ann", awaitingInput: false },
      participants: { ann: { role: "assistant", said: [0] }, bob: { role: "assistant", said: [1] } },
    });

    const before = anthropic.requests.length;
    anthropic.enqueue(reply.text("Then 84."), reply.text("Yes, 84."));
    const next = await createRun(stack.api, { task: "And twice that?", fromState: state as never });
    const continued = await runToEnd(stack.api, next, 60_000);
    expect(continued.view.status).toBe("succeeded");
    expect(speakers(continued.events)).toEqual(["ann", "bob"]);
    const sent = text(anthropic.requests[before]);
    for (const part of ["What is six times seven?", "The answer is 42.", "Agreed: 42.", "And twice that?"]) {
      expect(sent).toContain(part);
    }
    // Before the new task, in order.
    expect(sent.indexOf("Agreed: 42.")).toBeLessThan(sent.indexOf("And twice that?"));

    const plain = await createRun(stack.api, { task: "x", planner: null, maxIterations: 1 });
    anthropic.enqueue(reply.toolUse("finish", { summary: "s", code: "", verdict: "success" }));
    await runToEnd(stack.api, plain, 60_000);
    expect((await stack.api.get(`/v1/runs/${plain}/state`)).status).toBe(409);
  });
});

describe("bad input", () => {
  const base = { kind: "round_robin", participants: [{ name: "coder", role: "coder" }] };
  const cases: [string, unknown, string][] = [
    ["an unknown kind", { ...base, kind: "mesh" }, "team.kind"],
    [
      "a duplicate name",
      {
        ...base,
        participants: [
          { name: "a", role: "coder" },
          { name: "a", role: "assistant" },
        ],
      },
      "team.participants.1.name",
    ],
    ["an invalid name", { ...base, participants: [{ name: "Coder!", role: "coder" }] }, "team.participants.0.name"],
    ["a reserved name", { ...base, participants: [{ name: "user", role: "coder" }] }, "team.participants.0.name"],
    [
      "a handoff to an unknown name",
      {
        kind: "swarm",
        participants: [{ name: "a", role: "coder", handoffs: ["ghost"] }],
      },
      "team.participants.0.handoffs.0",
    ],
    ["a swarm with no handoffs", { ...base, kind: "swarm" }, "team.participants"],
    [
      "nesting past 4 levels",
      { ...base, termination: { any: [{ all: [{ any: [{ all: [{ maxMessages: 1 }] }] }] }] } },
      "team.termination",
    ],
    ["an unknown condition", { ...base, termination: { maxTurns: 3 } }, "team.termination"],
    ["a selector team without a selector", { ...base, kind: "selector" }, "team.selector"],
    [
      "a tool its role lacks",
      { ...base, participants: [{ name: "a", role: "assistant", tools: ["run_code"] }] },
      "team.participants.0.tools.0",
    ],
  ];
  it.each(cases)("%s is refused with 400 and the field's path", async (_, team, path) => {
    const res = await stack.api.raw("/v1/runs", JSON.stringify({ task: "t", team }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details?: { path: string }[] } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.details?.map((d) => d.path)).toContain(path);
  });

  it("a team run that also names the default team's models is refused", async () => {
    const res = await stack.api.raw(
      "/v1/runs",
      JSON.stringify({ task: "t", team: base, coder: { provider: "anthropic" } }),
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { details?: { path: string }[] } };
    expect(body.error.details?.map((d) => d.path)).toEqual(["coder"]);
  });

  it("a message to a run that is not the caller's is 404, an empty one 400", async () => {
    expect((await send("run_000000000000000000000000", "hi")).status).toBe(404);
    const res = await stack.api.raw("/v1/runs/run_000000000000000000000000/messages", JSON.stringify({ text: "" }));
    expect(res.status).toBe(400);
  });
});
