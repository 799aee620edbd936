import { type RunView, TEAM_MESSAGE_CHARS, type TeamMessage } from "@edgeswarm/shared";
import type { WaitingCall } from "../../sdk/approvals.ts";
import type { Runs } from "../../sdk/runs.ts";
import type { Command } from "../command.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { number } from "../options.ts";
import { byteSize, jsonLine, oneLine, out, printable } from "../output.ts";
import { eventLine } from "../render/event-line.ts";
import { table } from "../render/table.ts";
import { teamLines } from "../render/team.ts";
import { approveCommand, detailLines, summaryLines } from "../render/waiting-calls.ts";
import { UsageError } from "../usage-error.ts";
import { sendCommand } from "./user-turn.ts";

/** `edgeswarm runs ls`: one page of the tenant's runs, newest first. */
export const runsLs: Command = {
  name: "runs ls",
  args: "",
  positionals: [0, 0],
  summary: "list runs, newest first",
  flags: {
    limit: { type: "string", value: "<n>", help: "runs per page, 1 to 100 (default 20)" },
    cursor: { type: "string", value: "<cursor>", help: "the page after this cursor (printed under the list)" },
  },
  async run(ctx, values) {
    const limit = typeof values.limit === "string" ? number(values.limit, "--limit", "runs ls") : undefined;
    const cursor = typeof values.cursor === "string" ? values.cursor : undefined;
    const page = await (await ctx.swarm()).runs.list({ limit, cursor });
    if (ctx.json) {
      jsonLine(page);
      return EXIT_CODES.ok;
    }
    out(
      table(
        ["ID", "STATUS", "CREATED", "TASK"],
        page.runs.map((r) => [r.id, r.status, r.createdAt, oneLine(r.task, 60)]),
      ),
    );
    if (page.nextCursor) out(`more: edgeswarm runs ls --cursor ${page.nextCursor}`);
    return EXIT_CODES.ok;
  },
};

/** `edgeswarm runs show <id>`. */
export const runsShow: Command = {
  name: "runs show",
  args: "<id>",
  positionals: [1, 1],
  summary: "show a run: status, plan, team, iterations, usage, result or error, and what it waits on",
  flags: {},
  async run(ctx, _values, [id = ""]) {
    const swarm = await ctx.swarm();
    const run = await swarm.runs.get(id);
    if (ctx.json) {
      jsonLine(run);
      return EXIT_CODES.ok;
    }
    const waiting = run.status === "awaiting_approval" ? await swarm.runs.waiting(id) : [];
    // The question a swarm handed to the user is the last message of its state.
    const asked = run.status === "awaiting_input" ? ((await swarm.runs.state(id)).messages.at(-1) ?? null) : null;
    for (const line of describeRun(run, waiting, asked)) out(line);
    return EXIT_CODES.ok;
  },
};

/**
 * The human view of a run, as `runs show` prints it, with the calls it waits
 * on (from its log), and for a run awaiting input, the message it waits on.
 */
export function describeRun(
  run: RunView,
  waiting: readonly WaitingCall[] = [],
  asked: TeamMessage | null = null,
): string[] {
  const lines = [
    `id:         ${run.id}`,
    `status:     ${run.status}`,
    `task:       ${oneLine(run.task, 200)}`,
    `iterations: ${run.iterations}`,
    `tokens:     ${run.usage.total.inputTokens} in, ${run.usage.total.outputTokens} out`,
    `created:    ${run.createdAt}`,
  ];
  if (run.finishedAt) lines.push(`finished:   ${run.finishedAt}`);
  if (run.plan) {
    lines.push("plan:");
    run.plan.forEach((s, i) => {
      const mark = run.currentStep === i && !run.finishedAt ? "▶" : " ";
      lines.push(` ${mark} ${i + 1}. ${oneLine(s.goal, 100)}`);
    });
  }
  lines.push(...teamLines(run));
  if (run.error) lines.push(`error:      ${run.error.reason}: ${printable(run.error.message)}`);
  if (run.result) {
    lines.push(`summary:    ${printable(run.result.summary)}`);
    const files = run.result.manifest.map((f) => `${oneLine(f.path, 100)} (${byteSize(f.bytes)})`);
    if (files.length) lines.push(`files:      ${files.join(", ")}`);
    lines.push("stdout:", printable(run.result.stdout.replace(/\n$/, "")));
  }
  lines.push(...detailLines(run.id, waiting));
  if (run.status === "awaiting_input") {
    lines.push(`waiting:    for your answer: ${sendCommand(run.id)}`);
    if (asked) lines.push(`  ${asked.speaker}:`, ...indent(asked.text));
  }
  return lines;
}

function indent(text: string): string[] {
  return printable(text.replace(/\n+$/, ""))
    .split("\n")
    .map((l) => `    ${l}`);
}

/** `edgeswarm runs logs <id> [--follow]`. */
export const runsLogs: Command = {
  name: "runs logs",
  args: "<id>",
  positionals: [1, 1],
  summary: "print a run's events; --follow keeps printing them as they happen until it ends",
  flags: {
    follow: { type: "boolean", short: "f", help: "follow the run until it ends (resumes after a dropped connection)" },
    after: { type: "string", value: "<seq>", help: "start after this event number" },
  },
  async run(ctx, values, [id = ""]) {
    const swarm = await ctx.swarm();
    const after = typeof values.after === "string" ? number(values.after, "--after", "runs logs") : 0;
    const print = (e: Parameters<typeof eventLine>[0]) => (ctx.json ? jsonLine(e) : out(eventLine(e, id)));
    if (values.follow) {
      for await (const e of swarm.runs.events(id, { after })) print(e);
      return EXIT_CODES.ok;
    }
    // The log so far, page by page; bounded since each page moves `next` on or ends.
    let next = after;
    for (let page = 0; page < 100_000; page++) {
      const { events } = await swarm.runs.eventPage(id, { after: next, limit: 1000 });
      if (events.length === 0) break;
      for (const e of events) print(e);
      next = events.at(-1)?.seq ?? next;
    }
    return EXIT_CODES.ok;
  },
};

/** `edgeswarm runs cancel <id>`. */
export const runsCancel: Command = {
  name: "runs cancel",
  args: "<id>",
  positionals: [1, 1],
  summary: "cancel a run and kill its running container",
  flags: {},
  async run(ctx, _values, [id = ""]) {
    const run = await (await ctx.swarm()).runs.cancel(id);
    if (ctx.json) jsonLine(run);
    else out(`run ${run.id} ${run.status}`);
    return EXIT_CODES.ok;
  },
};

const APPROVE = "runs approve";

/** `edgeswarm runs approve <id> [--call <toolCallId>] [--deny] [--reason]`. */
export const runsApprove: Command = {
  name: APPROVE,
  args: "<id>",
  positionals: [1, 1],
  summary: "approve (or --deny) a call the run is waiting on",
  flags: {
    call: { type: "string", value: "<toolCallId>", help: "the waiting call to decide (runs show lists them)" },
    deny: { type: "boolean", help: "deny it instead; the coder is told, with the reason" },
    reason: { type: "string", value: "<text>", help: "why (the coder reads it)" },
  },
  notes:
    "A coder reply with several run_code calls waits until each is decided; the approved ones then run.\n" +
    "Without --call, the one waiting call is decided; when several wait, nothing is decided and they are\n" +
    "listed (exit 2), so that a call is never approved without being named.",
  async run(ctx, values, [id = ""]) {
    const approve = !values.deny;
    const reason = typeof values.reason === "string" ? values.reason : undefined;
    const swarm = await ctx.swarm();
    const toolCallId = typeof values.call === "string" ? values.call : await onlyWaiting(swarm.runs, id);
    const run = await swarm.runs.approve(id, {
      approve,
      ...(reason ? { reason } : {}),
      ...(toolCallId ? { toolCallId } : {}),
    });
    if (ctx.json) {
      jsonLine(run);
      return EXIT_CODES.ok;
    }
    const decided = `${approve ? "approved" : "denied"}${toolCallId ? ` ${toolCallId}` : ""}`;
    out(`${decided}: run ${run.id} is ${run.status}`);
    if (run.status === "awaiting_approval") {
      const left = await swarm.runs.waiting(id);
      if (left.length) out(`still waiting: ${left.map((c) => approveCommand(id, c.toolCallId)).join("; ")}`);
    }
    return EXIT_CODES.ok;
  },
};

/**
 * The call to decide when none was named: the one waiting, or none (the API
 * then says why the run is not waiting). Several waiting is a usage error
 * that lists them: which one to run is the user's choice, not the order's.
 */
async function onlyWaiting(runs: Runs, id: string): Promise<string | undefined> {
  const waiting = await runs.waiting(id);
  if (waiting.length <= 1) return waiting[0]?.toolCallId;
  const list = summaryLines(waiting, 60).map((l) => `  ${l}`);
  throw new UsageError(
    `run ${id} waits on ${waiting.length} calls; name one with --call <toolCallId>:\n${list.join("\n")}`,
    APPROVE,
  );
}

const SEND = "runs send";

/** `edgeswarm runs send <id> "<text>"`. */
export const runsSend: Command = {
  name: SEND,
  args: '<id> "<text>"',
  positionals: [1, 2],
  summary: "send a run a message: the answer a swarm waits for, or an ended run's next task",
  flags: {},
  notes:
    "A swarm that hands off to the user waits (awaiting_input) for this message. Sent to a run that has\n" +
    "ended, it is the run's next task: the run goes on with its conversation and workspace (running again).\n" +
    "While the run works, the API refuses it (invalid_state, exit 5). Follow it: edgeswarm runs logs <id> -f",
  async run(ctx, _values, [id = "", text]) {
    if (text === undefined) throw new UsageError(`missing the message: edgeswarm runs send ${id} "<text>"`, SEND);
    if (!text.trim()) throw new UsageError("the message is empty", SEND);
    if (text.length > TEAM_MESSAGE_CHARS) {
      throw new UsageError(`the message is ${text.length} characters; at most ${TEAM_MESSAGE_CHARS}`, SEND);
    }
    const run = await (await ctx.swarm()).runs.send(id, text);
    if (ctx.json) jsonLine(run);
    else out(`sent: run ${run.id} is ${run.status}`);
    return EXIT_CODES.ok;
  },
};

/** `edgeswarm runs state <id>`. */
export const runsState: Command = {
  name: "runs state",
  args: "<id>",
  positionals: [1, 1],
  summary: "print a team run's state (its team and conversation) as JSON, for run --from-state",
  flags: {},
  notes:
    "Save it, and start a run that goes on with the conversation:\n" +
    "  edgeswarm runs state <id> > state.json\n" +
    '  edgeswarm run --from-state state.json "<the next task>"\n' +
    "A run of the default team (planner, then coder) has no team state: the API says so (exit 5).",
  async run(ctx, _values, [id = ""]) {
    const state = await (await ctx.swarm()).runs.state(id);
    // JSON escapes every control character, so the text is safe on a terminal as is.
    if (ctx.json) jsonLine(state);
    else out(JSON.stringify(state, null, 2));
    return EXIT_CODES.ok;
  },
};
