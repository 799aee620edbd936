import { join } from "node:path";
import type { Edgeswarm, RunEvent } from "@edgeswarm/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../client/src/cli/exit-codes.ts";
import { reply } from "../fakes/server.ts";
import { anthropicToolResults } from "../harness/runs.ts";
import { Cli, cli } from "./cli-process.ts";
import { type CliSuite, startCliSuite } from "./cli-suite.ts";
import type { startModels } from "./models.ts";

// `edgeswarm` deciding the calls of one coder reply under approval "always",
// against the real stack (workerd, an agent, Docker, the fake model servers).
let models: Awaited<ReturnType<typeof startModels>>;
let swarm: Edgeswarm;
let env: NodeJS.ProcessEnv;
let dir: string;

let suite: CliSuite | undefined;
beforeAll(async () => {
  suite = await startCliSuite("client-approvals");
  ({ models, swarm, env, dir } = suite);
});
afterAll(async () => {
  await suite?.stop();
});

/** Scripts the next coder turn to make two run_code calls, then finish once both results are back. */
function twoCalls(): void {
  models.anthropic.enqueue(
    reply.toolCalls([
      { name: "run_code", input: { code: "print('kept')" } },
      {
        name: "run_code",
        input: { code: "import cleanup", files: [{ path: "cleanup.py", content: "print('refused')" }] },
      },
    ]),
    (request) => {
      const results = anthropicToolResults(request.body);
      if (results.length !== 2) return reply.error(400, `expected two tool results: ${JSON.stringify(results)}`);
      return reply.toolUse("finish", { summary: "done", code: "print('kept')", verdict: "success" });
    },
  );
}

/** Starts a run whose reply makes two calls, and waits until both are asked about. */
async function parkedOnTwo(): Promise<string> {
  twoCalls();
  const { id } = await swarm.runs.create({ task: "Two calls.", planner: null, approval: "always" });
  let asked = 0;
  for await (const e of swarm.runs.events(id)) if (e.type === "approval.requested" && ++asked === 2) break;
  return id;
}

const of = <T extends RunEvent["type"]>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

describe("edgeswarm runs approve with several calls waiting", () => {
  it("lists them rather than guess, decides the call --call names, and the one left without --call", async () => {
    const id = await parkedOnTwo();

    const show = await cli(["runs", "show", id], { env });
    expect(show.code).toBe(EXIT_CODES.ok);
    expect(show.out).toContain("waiting:    2 calls wait for a decision\n");
    expect(show.out).toContain(
      `  call_1 (python, step 1): edgeswarm runs approve ${id} --call call_1\n    print('kept')\n`,
    );
    expect(show.out).toContain(
      `  call_2 (python, step 1): edgeswarm runs approve ${id} --call call_2\n    import cleanup\n` +
        "    file it writes first: cleanup.py\n      print('refused')\n",
    );

    // Not named: nothing is decided, and the waiting calls are listed.
    const unnamed = await cli(["runs", "approve", id], { env });
    expect(unnamed.code).toBe(EXIT_CODES.usage);
    expect(unnamed.err).toContain(`run ${id} waits on 2 calls; name one with --call <toolCallId>:`);
    expect(unnamed.err).toContain("  call_1  python, step 1: print('kept')");
    expect(unnamed.err).toContain("  call_2  python, step 1, writes cleanup.py: import cleanup");
    expect(of((await swarm.runs.eventPage(id)).events, "approval.decided")).toEqual([]);

    const denied = await cli(["runs", "approve", id, "--call", "call_2", "--deny", "--reason", "not this one"], {
      env,
    });
    expect(denied.code).toBe(EXIT_CODES.ok);
    expect(denied.out).toBe(
      `denied call_2: run ${id} is awaiting_approval\nstill waiting: edgeswarm runs approve ${id} --call call_1\n`,
    );
    // A call already decided: the API's 409 names the one still waiting.
    const again = await cli(["runs", "approve", id, "--call", "call_2"], { env });
    expect(again.code).toBe(EXIT_CODES.apiError);
    expect(again.err).toContain(
      "tool call 'call_2' is not awaiting approval; waiting: call_1 (invalid_state, HTTP 409)",
    );

    // One left: without --call it is the one decided, and named.
    const approved = await cli(["runs", "approve", id], { env });
    expect(approved.code).toBe(EXIT_CODES.ok);
    expect(approved.out).toMatch(new RegExp(`^approved call_1: run ${id} is \\w+\\n$`));

    const view = await swarm.runs.wait(id, { signal: AbortSignal.timeout(60_000) });
    expect(view.status).toBe("succeeded");
    const { events } = await swarm.runs.eventPage(id, { limit: 1000 });
    expect(of(events, "approval.decided").map((e) => e.payload)).toEqual([
      { toolCallId: "call_2", approve: false, reason: "not this one" },
      { toolCallId: "call_1", approve: true, reason: null },
    ]);
    expect(of(events, "execution.finished").map((e) => e.payload.toolCallId)).toEqual(["call_1"]);
    const logs = await cli(["runs", "logs", id], { env });
    expect(logs.out).toMatch(/approval\.requested {2}step 1: python code of call_2 waits for approval/);
    expect(logs.out).toMatch(/approval\.decided {2}denied call_2: not this one$/m);
    expect(models.anthropic.violations).toEqual([]);
  });
});

describe("edgeswarm run on a terminal with several calls waiting", () => {
  it("lists each waiting call in the live view until it is decided", async () => {
    twoCalls();
    const proc = new Cli(["run", "Two calls.", "--planner", "none", "--approval", "always", "--out", join(dir, "t")], {
      env: { ...env, TERM: "xterm" },
      tty: true,
    });
    await proc.text(
      /waiting for approval of 2 calls:\r?\n {2}\? call_1 {2}python, step 1: print\('kept'\)\r?\n {2}\? call_2 {2}python, step 1, writes cleanup\.py: import cleanup\r?\ndecide: edgeswarm runs approve run_\w+ --call <toolCallId>/,
      "both calls in the live view",
      30_000,
    );
    const id = /run (run_\w+) {2}/.exec(proc.out)?.[1] ?? "";
    await swarm.runs.approve(id, { approve: false, toolCallId: "call_2" });
    // The frames are all in the output; the last one that waits lists call_1 alone.
    await proc.text(
      /waiting for approval of 1 call:\r?\n {2}\? call_1 [^\n]*\r?\ndecide: [^\n]*\r?\n(?![\s\S]*\? call_2)/,
      "call_2 gone from the view",
      30_000,
    );
    await swarm.runs.approve(id, { approve: true, toolCallId: "call_1" });
    expect(await proc.code()).toBe(EXIT_CODES.ok);
    expect(proc.out).toMatch(new RegExp(`run ${id} succeeded after 1 iteration `));
  });
});
