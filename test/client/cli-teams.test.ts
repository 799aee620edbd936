import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Edgeswarm, isTerminal, type TeamInput } from "@edgeswarm/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../client/src/cli/exit-codes.ts";
import { within } from "../../scripts/lib/wait.ts";
import { type RecordedRequest, reply } from "../fakes/server.ts";
import { Cli, cli } from "./cli-process.ts";
import { type CliSuite, startCliSuite } from "./cli-suite.ts";
import type { startModels } from "./models.ts";

// `edgeswarm` with teams (issue 14) against the real stack: a swarm that hands
// off to the user and gets its answer from stdin or `runs send`, a run that
// is sent its next task, and a team state saved and taken back.
let models: Awaited<ReturnType<typeof startModels>>;
let swarm: Edgeswarm;
let env: NodeJS.ProcessEnv;
let dir: string;

let suite: CliSuite | undefined;
beforeAll(async () => {
  suite = await startCliSuite("client-teams");
  ({ models, swarm, env, dir } = suite);
});
afterEach(async () => {
  // One test's leftovers (a reply not asked for, a run left waiting) never reach the next.
  models.reset();
  for (const run of (await swarm.runs.list({ limit: 100 })).runs) {
    if (!isTerminal(run)) await swarm.runs.cancel(run.id).catch(() => {});
  }
});
afterAll(async () => {
  await suite?.stop();
});

/** A coder that may ask the user, and a tester it may hand to; a message with DONE ends the run. */
const SWARM: TeamInput = {
  kind: "swarm",
  participants: [
    { name: "coder", role: "coder", handoffs: ["tester", "user"] },
    { name: "tester", role: "coder", handoffs: ["coder"] },
  ],
  termination: { textMention: "DONE" },
};

async function teamFile(name: string, team: TeamInput): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(team));
  return path;
}

const text = (r: RecordedRequest | undefined) => JSON.stringify(r?.body ?? null);
const runId = (out: string) => /^run (run_[0-9a-f]{24}) started$/m.exec(out)?.[1] ?? "";

describe("edgeswarm run --team with a swarm that hands off to the user", () => {
  it("prints the question, sends the line piped to stdin, and follows the run to its end", async () => {
    const team = await teamFile("swarm.json", SWARM);
    const before = models.anthropic.requests.length;
    models.anthropic.enqueue(
      reply.toolUse("transfer_to_user", {}, { text: "Which file?" }),
      reply.text("I will read data.csv. DONE"),
    );
    const r = await cli(["run", "--team", team, "Summarise the data.", "--out", join(dir, "a")], {
      env,
      stdin: "data.csv\n",
    });
    expect(r.code, r.err).toBe(EXIT_CODES.ok);
    expect(r.out).toMatch(/^#\d+ participant\.replied {2}coder calls transfer_to_user: Which file\? \(/m);
    expect(r.out).toMatch(/^#\d+ team\.message {2}coder → user: Which file\?$/m);
    expect(r.out).toContain("\ncoder hands the conversation to you:\n  Which file?\n");
    expect(r.out).toMatch(/^#\d+ team\.message {2}user: data\.csv$/m);
    expect(r.out).toMatch(/^#\d+ run\.finished {2}succeeded: stopped by textMention "DONE"$/m);
    expect(r.out).toContain('\nstopped by: textMention "DONE"\n');
    expect(r.out).toContain("summary: I will read data.csv. DONE");

    // The coder's next turn read the answer.
    const next = models.anthropic.requests[before + 1];
    expect(text(next)).toContain("data.csv");
    expect(text(next)).toContain("You are coder. It is your turn.");
    expect(models.anthropic.requests).toHaveLength(before + 2);
    const saved = JSON.parse(await readFile(join(dir, "a", "run.json"), "utf8"));
    expect(saved).toMatchObject({ status: "succeeded", team: { kind: "swarm" } });
  });

  it("exits 7 when stdin ends before an answer; runs show names the question, runs send answers it", async () => {
    const team = await teamFile("swarm.json", SWARM);
    models.anthropic.enqueue(reply.toolUse("transfer_to_user", {}, { text: "Which file?\nCSV or JSON?" }));
    const r = await cli(["run", "--team", team, "Summarise the data.", "--out", join(dir, "b")], { env, stdin: "" });
    const id = runId(r.out);
    expect(r.code, r.out).toBe(EXIT_CODES.waiting);
    expect(r.err).toContain(
      `edgeswarm: run ${id} waits for your answer, and stdin has ended; answer with: edgeswarm runs send ${id} "<text>"`,
    );
    expect(r.out).not.toContain("saved to");
    expect((await swarm.runs.get(id)).status).toBe("awaiting_input");

    const show = await cli(["runs", "show", id], { env });
    expect(show.code, show.err).toBe(EXIT_CODES.ok);
    expect(show.out).toContain("status:     awaiting_input\n");
    expect(show.out).toContain("team:       swarm, 1 message, next: coder\n");
    expect(show.out).toContain(
      `waiting:    for your answer: edgeswarm runs send ${id} "<text>"\n  coder:\n    Which file?\n    CSV or JSON?\n`,
    );

    const before = models.anthropic.requests.length;
    models.anthropic.enqueue(reply.text("Reading data.csv. DONE"));
    const sent = await cli(["runs", "send", id, "data.csv, please"], { env });
    expect(sent.code, sent.err).toBe(EXIT_CODES.ok);
    expect(sent.out).toBe(`sent: run ${id} is running\n`);
    const view = await swarm.runs.wait(id, { signal: AbortSignal.timeout(60_000) });
    expect(view).toMatchObject({ status: "succeeded", result: { stoppedBy: [{ textMention: "DONE" }] } });
    expect(text(models.anthropic.requests[before])).toContain("data.csv, please");
  });

  it("on a terminal, asks at a prompt below the live view and follows on once the answer is typed", async () => {
    const team = await teamFile("swarm.json", SWARM);
    const before = models.anthropic.requests.length;
    models.anthropic.enqueue(reply.toolUse("transfer_to_user", {}, { text: "Which file?" }), reply.text("DONE"));
    const proc = new Cli(["run", "--team", team, "Summarise the data.", "--out", join(dir, "t")], {
      env: { ...env, TERM: "xterm" },
      tty: true,
    });
    await proc.text(/swarm \(coder, tester\) {2}message \d/, "the team in the live view", 30_000);
    await proc.text(
      /coder hands the conversation to you:\r?\n {2}Which file\?\r?\n[^\n]*your answer> /,
      "the question and its prompt",
      30_000,
    );
    proc.type("data.csv\r");
    expect(await proc.code()).toBe(EXIT_CODES.ok);
    expect(proc.out).toMatch(/run run_\w+ {2}succeeded/);
    expect(text(models.anthropic.requests[before + 1])).toContain("data.csv");
  });
});

describe("edgeswarm runs send", () => {
  const WRITER: TeamInput = {
    kind: "round_robin",
    participants: [{ name: "writer", role: "assistant" }],
    termination: { maxMessages: 1 },
  };

  it("continues an ended run with its next task, and is refused (409) while the run works", async () => {
    models.anthropic.enqueue(reply.text("First draft."));
    const { id } = await swarm.runs.create({ task: "Write a line about rain.", team: WRITER });
    expect((await swarm.runs.wait(id, { signal: AbortSignal.timeout(60_000) })).status).toBe("succeeded");

    // The next turn's model call holds until a message has been sent while the run works.
    const inFlight = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    models.anthropic.enqueue(async () => {
      inFlight.resolve();
      await release.promise;
      return reply.text("Second draft.");
    });
    const sent = await cli(["runs", "send", id, "Make it shorter."], { env });
    expect(sent.code, sent.err).toBe(EXIT_CODES.ok);
    expect(sent.out).toBe(`sent: run ${id} is running\n`);
    try {
      await within(inFlight.promise, 30_000, "the continued run's model call");
      const busy = await cli(["runs", "send", id, "And again."], { env });
      expect(busy.code).toBe(EXIT_CODES.apiError);
      expect(busy.err).toContain(
        "edgeswarm: the run is running: send a message once it awaits input or has ended (invalid_state, HTTP 409)",
      );
    } finally {
      release.resolve();
    }
    const view = await swarm.runs.wait(id, { signal: AbortSignal.timeout(60_000) });
    expect(view).toMatchObject({ status: "succeeded", result: { summary: "Second draft." } });
    const logs = await cli(["runs", "logs", id], { env });
    expect(logs.out).toMatch(/^#\d+ run\.continued {2}continued: Make it shorter\.$/m);
    expect(logs.out.match(/run\.finished {2}succeeded/g)).toHaveLength(2);
  });

  it("says which argument is missing, with exit 2", async () => {
    const none = await cli(["runs", "send"], { env });
    expect(none.code).toBe(EXIT_CODES.usage);
    expect(none.err).toContain('missing <id> "<text>": edgeswarm runs send <id> "<text>"');
    const noText = await cli(["runs", "send", "run_0123456789abcdef01234567"], { env });
    expect(noText.code).toBe(EXIT_CODES.usage);
    expect(noText.err).toContain(
      "missing the message: edgeswarm runs send run_0123456789abcdef01234567 \"<text>\"\nSee 'edgeswarm runs send --help'.",
    );
    const blank = await cli(["runs", "send", "run_0123456789abcdef01234567", "  "], { env });
    expect(blank).toMatchObject({ code: EXIT_CODES.usage });
    expect(blank.err).toContain("the message is empty");
    const help = await cli(["--help"], { env });
    expect(help.out).toContain('  runs send <id> "<text>" ');
    expect(help.out).toContain("  runs state <id> ");
    expect(help.out).toMatch(/^ {2}7 {4}the run waits for your answer/m);
  });
});

describe("edgeswarm runs state and run --from-state", () => {
  it("prints the team's state as JSON, which run --from-state takes back to go on with the conversation", async () => {
    const team: TeamInput = {
      kind: "round_robin",
      participants: [
        { name: "ann", role: "assistant" },
        { name: "bob", role: "assistant" },
      ],
      termination: { maxMessages: 2 },
    };
    models.anthropic.enqueue(reply.text("The answer is 42."), reply.text("Agreed: 42."));
    const { id } = await swarm.runs.create({ task: "What is six times seven?", team });
    expect((await swarm.runs.wait(id, { signal: AbortSignal.timeout(60_000) })).status).toBe("succeeded");

    const st = await cli(["runs", "state", id], { env });
    expect(st.code, st.err).toBe(EXIT_CODES.ok);
    const state = JSON.parse(st.out);
    expect(state).toMatchObject({
      version: 1,
      tasks: ["What is six times seven?"],
      messages: [
        { speaker: "ann", text: "The answer is 42." },
        { speaker: "bob", text: "Agreed: 42." },
      ],
      manager: { kind: "round_robin", awaitingInput: false },
    });
    const file = join(dir, "state.json");
    await writeFile(file, st.out);

    const before = models.anthropic.requests.length;
    models.anthropic.enqueue(reply.text("Then 84."), reply.text("Yes, 84."));
    const r = await cli(["run", "--from-state", file, "And twice that?", "--out", join(dir, "c")], { env });
    expect(r.code, r.err).toBe(EXIT_CODES.ok);
    expect(r.out).toMatch(/^#\d+ team\.message {2}ann: Then 84\. \(/m);
    expect(r.out).toMatch(/^#\d+ team\.message {2}bob: Yes, 84\. \(/m);
    const sent = text(models.anthropic.requests[before]);
    for (const part of ["What is six times seven?", "Agreed: 42.", "And twice that?"]) expect(sent).toContain(part);
    expect(sent.indexOf("Agreed: 42.")).toBeLessThan(sent.indexOf("And twice that?"));

    // The default team has no team state: the API's 409, exit 5.
    models.anthropic.enqueue(reply.toolUse("finish", { summary: "s", code: "", verdict: "success" }));
    const plain = await swarm.runs.create({ task: "Nothing.", planner: null, maxIterations: 1 });
    await swarm.runs.wait(plain.id, { signal: AbortSignal.timeout(60_000) });
    const none = await cli(["runs", "state", plain.id], { env });
    expect(none.code).toBe(EXIT_CODES.apiError);
    expect(none.err).toContain("(invalid_state, HTTP 409)");
    // A state file that is not one is refused before any request, naming the field.
    await writeFile(join(dir, "bad.json"), JSON.stringify({ ...state, version: 2 }));
    const bad = await cli(["run", "--from-state", join(dir, "bad.json"), "x"], { env });
    expect(bad.code).toBe(EXIT_CODES.usage);
    expect(bad.err).toMatch(/--from-state \S+bad\.json: version: /);
  });
});
