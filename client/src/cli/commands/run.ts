import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import {
  type Language,
  PROVIDERS,
  type Provider,
  type RoleModel,
  type RunEvent,
  type RunRequestInput,
  type RunView,
  Team,
  TeamStateExport,
} from "@edgeswarm/shared";
import { EdgeswarmApiError } from "../../sdk/errors.ts";
import type { Command, Context, Values } from "../command.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { readJsonFile } from "../json-file.ts";
import { type LineInput, PipedLines, TypedLines } from "../line-input.ts";
import { LIMIT_FLAGS, limitsFrom, number, pairs } from "../options.ts";
import { byteSize, err, interactive, jsonLine, out, printable } from "../output.ts";
import { eventLine } from "../render/event-line.ts";
import { ProgressView } from "../render/progress.ts";
import { stopLine } from "../render/team.ts";
import { type Saved, saveResult } from "../save-result.ts";
import { UsageError } from "../usage-error.ts";
import { readWorkspaceFiles } from "../workspace-files.ts";
import { runExitCode } from "./run-exit.ts";
import { InputEnded, sendCommand, UserTurn } from "./user-turn.ts";

const NAME = "run";

/** `edgeswarm run "<task>"`: start a run, show it live, print and save the result. */
export const run: Command = {
  name: NAME,
  args: '"<task>"',
  positionals: [1, 1],
  summary: "start an agent run, follow it live, then print and save its result",
  flags: {
    out: { type: "string", value: "<dir>", help: "where to save the result (default ./edgeswarm-out/<run id>/)" },
    detach: { type: "boolean", help: "print the run id and return at once, without following" },
    planner: {
      type: "string",
      value: "<p[:model]>|none",
      help: `the planner (${PROVIDERS.join(", ")}); none skips planning`,
    },
    "planner-base-url": { type: "string", value: "<url>", help: "the planner's base URL (a keyless local server)" },
    coder: { type: "string", value: "<p[:model]>", help: "the coder's provider and model" },
    "coder-base-url": { type: "string", value: "<url>", help: "the coder's base URL (a keyless local server)" },
    "max-iterations": { type: "string", value: "<n>", help: "executions per run, 1 to 50 (default 8)" },
    "token-budget": { type: "string", value: "<n>", help: "tokens in and out for the whole run" },
    "run-timeout-ms": { type: "string", value: "<ms>", help: "the whole run's wall time (default 600000)" },
    approval: { type: "string", value: "never|always", help: "always: park before each execution for approval" },
    pool: { type: "string", value: "<name>", help: "the sandbox pool (default: the key's first)" },
    team: {
      type: "string",
      value: "<file.json>",
      help: "a team (kind, participants, termination) instead of planner+coder",
    },
    "from-state": {
      type: "string",
      value: "<file.json>",
      help: "go on with a team run's conversation, as `runs state` printed it",
    },
    file: { type: "string", multiple: true, value: "<path>", help: "a file for the starting workspace (repeatable)" },
    metadata: { type: "string", multiple: true, value: "<k=v>", help: "metadata returned with the run (repeatable)" },
    ...LIMIT_FLAGS,
  },
  notes:
    "Limit flags apply to each execution of the run. Ctrl-C asks whether to cancel the run on a terminal;\n" +
    "without one, the first Ctrl-C cancels the run (exit 3 once it has ended) and a second exits at once (130).\n" +
    "\n" +
    "A team's participants each name their model, so --team and --from-state take no --planner or --coder.\n" +
    "When a swarm hands off to the user, run prints the message and reads your answer, one line, from\n" +
    `stdin (typed at a terminal, or piped), sends it and follows on. If stdin ends first, run exits with ${EXIT_CODES.waiting}\n` +
    'and the run waits: answer it with edgeswarm runs send <id> "<text>".',
  async run(ctx, values, [task]) {
    const body = await runBody(task ?? "", values);
    const swarm = await ctx.swarm();
    const created = await swarm.runs.create(body);
    if (values.detach) {
      if (ctx.json) jsonLine(created);
      else out(created.id);
      return EXIT_CODES.ok;
    }
    return follow(ctx, created.id, values);
  },
};

async function follow(ctx: Context, id: string, values: Values): Promise<number> {
  const swarm = await ctx.swarm();
  const live = !ctx.json && interactive(ctx.env);
  const view = live
    ? new ProgressView(
        id,
        (t) => process.stdout.write(t),
        () => process.stdout.columns || 80,
      )
    : null;
  if (!ctx.json && !live) out(`run ${id} started`);
  let language: Language | null = null;
  let cancelling = false;
  let prompting = false;

  const cancel = async () => {
    cancelling = true;
    try {
      await swarm.runs.cancel(id);
    } catch (e) {
      // Already over (409): the stream will say how it ended.
      if (!(e instanceof EdgeswarmApiError && e.code === "invalid_state")) throw e;
    }
  };
  // The prompt needs a terminal on both sides; otherwise Ctrl-C cancels at once.
  const canAsk = live && Boolean(process.stdin.isTTY);
  const onSigint = () => {
    if (cancelling) process.exit(EXIT_CODES.interrupted);
    if (!canAsk) {
      err(`edgeswarm: cancelling run ${id} (Ctrl-C again to exit at once)`);
      cancel().catch((e: unknown) => err(`edgeswarm: could not cancel run ${id}: ${(e as Error).message}`));
      return;
    }
    if (prompting) return;
    prompting = true;
    view?.release();
    ask(`Cancel run ${id}? [y/N] `)
      .then(async (answer) => {
        if (/^y(es)?$/i.test(answer.trim())) await cancel();
        else view?.draw();
      })
      .catch((e: unknown) => err(`edgeswarm: could not cancel run ${id}: ${(e as Error).message}`))
      .finally(() => {
        prompting = false;
      });
  };
  const stop = new AbortController();
  const turn = new UserTurn({
    runId: id,
    runs: swarm.runs,
    input: answerInput(id, ctx.json),
    show: (lines) => {
      if (!ctx.json) for (const line of lines) out(line);
    },
    asking: (on) => {
      prompting = on;
      if (on) view?.release();
      else view?.draw();
    },
    stop: (why) => stop.abort(why),
  });
  process.on("SIGINT", onSigint);
  try {
    for await (const e of swarm.runs.events(id, { signal: stop.signal })) {
      language = languageOf(e) ?? language;
      if (ctx.json) jsonLine(e);
      else if (view) view.update(e, !prompting);
      else out(eventLine(e, id));
      turn.seen(e);
    }
  } catch (e) {
    const why: unknown = stop.signal.reason;
    if (!stop.signal.aborted) throw e;
    if (!(why instanceof InputEnded)) throw why;
    if (ctx.json) jsonLine({ type: "waiting", run: why.run });
    err(`edgeswarm: ${why.message}`);
    return runExitCode(why.run.status);
  } finally {
    turn.close();
    process.off("SIGINT", onSigint);
  }
  const final = await swarm.runs.get(id);
  const dir = typeof values.out === "string" ? values.out : `edgeswarm-out/${id}`;
  const saved = await saveResult(dir, final, language);
  if (ctx.json) jsonLine({ type: "result", run: final, saved });
  else report(final, saved);
  return runExitCode(final.status);
}

/**
 * Where answers to a swarm's handoff come from: typed at the terminal, or
 * read a line at a time from stdin when it is a pipe (a script's answers).
 * Ctrl-C at the prompt leaves at once; the run goes on waiting.
 */
function answerInput(id: string, json: boolean): LineInput {
  if (!process.stdin.isTTY) return new PipedLines(process.stdin);
  // The prompt never goes into --json output or a pipe.
  const output = process.stdout.isTTY && !json ? process.stdout : process.stderr;
  return new TypedLines(process.stdin, output, () => {
    output.write("\n");
    err(`edgeswarm: left run ${id} waiting for your answer; send it with: ${sendCommand(id)}`);
    process.exit(EXIT_CODES.interrupted);
  });
}

function languageOf(e: RunEvent): Language | null {
  if (e.type === "execution.finished" || e.type === "approval.requested") return e.payload.language;
  return null;
}

function report(run: RunView, saved: Saved): void {
  const { total } = run.usage;
  const head = `run ${run.id} ${run.status} after ${run.iterations} iteration${run.iterations === 1 ? "" : "s"}`;
  out("");
  out(`${head} (tokens: ${total.inputTokens} in, ${total.outputTokens} out)`);
  if (run.result?.stoppedBy?.length) out(`stopped by: ${stopLine(run.result.stoppedBy)}`);
  if (run.error) {
    const line = `${run.status} (${run.error.reason}): ${printable(run.error.message)}`;
    out(line);
    err(`edgeswarm: run ${run.id} ${line}`);
  }
  if (run.result) {
    out(`summary: ${printable(run.result.summary)}`);
    out("stdout:");
    out(printable(run.result.stdout.replace(/\n$/, "")));
  }
  // One line per file, with its full path: what a user copies to open a plot.
  out(`saved to ${printable(saved.dir)}:`);
  for (const file of saved.files) {
    out(`  ${printable(join(saved.dir, file))}  ${byteSize(saved.sizes[file] ?? 0)}`);
  }
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // Ctrl-C at the prompt itself: leave at once, without cancelling.
  rl.on("SIGINT", () => {
    rl.close();
    process.stdout.write("\n");
    process.exit(EXIT_CODES.interrupted);
  });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

function roleModel(raw: string, flag: string, baseUrl: unknown): RoleModel {
  const colon = raw.indexOf(":");
  const provider = colon < 0 ? raw : raw.slice(0, colon);
  const model = colon < 0 ? undefined : raw.slice(colon + 1);
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new UsageError(
      `${flag} takes <provider>[:<model>] with provider ${PROVIDERS.join(", ")}; got '${raw}'`,
      NAME,
    );
  }
  return {
    provider: provider as Provider,
    ...(model ? { model } : {}),
    ...(typeof baseUrl === "string" ? { baseUrl } : {}),
  };
}

/** The `POST /v1/runs` body from the flags; the API checks the ranges and names the bound. */
export async function runBody(task: string, values: Values): Promise<RunRequestInput> {
  if (!task.trim()) throw new UsageError("the task is empty", NAME);
  const body: RunRequestInput = { task };
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const team = str("team");
  if (team !== undefined) body.team = await readJsonFile(team, "--team", Team, NAME);
  const state = str("from-state");
  if (state !== undefined) body.fromState = await readJsonFile(state, "--from-state", TeamStateExport, NAME);
  if (body.team || body.fromState) {
    const given = ["planner", "planner-base-url", "coder", "coder-base-url"].filter((k) => values[k] !== undefined);
    if (given.length > 0) {
      const flag = team !== undefined ? "--team" : "--from-state";
      throw new UsageError(
        `${flag} names each participant's model in the team; --${given[0]} is for the default team`,
        NAME,
      );
    }
  }
  const planner = str("planner");
  if (planner === "none") body.planner = null;
  else if (planner !== undefined) body.planner = roleModel(planner, "--planner", values["planner-base-url"]);
  else if (str("planner-base-url")) throw new UsageError("--planner-base-url needs --planner <provider>", NAME);
  const coder = str("coder");
  if (coder !== undefined) body.coder = roleModel(coder, "--coder", values["coder-base-url"]);
  else if (str("coder-base-url")) throw new UsageError("--coder-base-url needs --coder <provider>", NAME);
  const max = str("max-iterations");
  if (max !== undefined) body.maxIterations = number(max, "--max-iterations", NAME);
  const budget = str("token-budget");
  if (budget !== undefined) body.tokenBudget = number(budget, "--token-budget", NAME);
  const timeout = str("run-timeout-ms");
  if (timeout !== undefined) body.timeoutMs = number(timeout, "--run-timeout-ms", NAME);
  const approval = str("approval");
  if (approval !== undefined) {
    if (approval !== "never" && approval !== "always") {
      throw new UsageError(`--approval takes never or always, got '${approval}'`, NAME);
    }
    body.approval = approval;
  }
  const pool = str("pool");
  if (pool !== undefined) body.pool = pool;
  const limits = limitsFrom(values, NAME);
  if (Object.keys(limits).length > 0) body.limits = limits;
  const files = (values.file as string[] | undefined) ?? [];
  if (files.length > 0) body.files = await readWorkspaceFiles(files, NAME);
  const metadata = pairs(values.metadata as string[] | undefined, "--metadata", NAME);
  if (metadata) body.metadata = metadata;
  return body;
}
