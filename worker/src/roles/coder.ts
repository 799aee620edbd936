import type { ToolCallRecord } from "@edgeswarm/shared";
import { DEFAULT_CONTEXT_POLICY, fileSetProblem, Language, type PayloadOf, WorkspacePath } from "@edgeswarm/shared";
import { z } from "zod";
import { jsonSchemaOf } from "../models/json-schema.ts";
import type { ChatMessage, ToolResult, ToolSpec } from "../models/model.ts";
import type { CallOutcome, RunState } from "../run/state.ts";
import { digestCall, digestOutcome } from "./digest.ts";

export { default as CODER_SYSTEM } from "../prompts/coder.md";

/** Most characters of code the coder may send in one call. */
const MAX_CODE_CHARS = 256 * 1024;
/** Most characters of all the files of one call. */
const MAX_CALL_FILE_CHARS = 512 * 1024;

export const RunCodeInput = z
  .object({
    language: Language.default("python").describe("default python"),
    code: z.string().min(1).max(MAX_CODE_CHARS).describe("the complete program"),
    files: z
      .array(z.object({ path: WorkspacePath, content: z.string().max(MAX_CALL_FILE_CHARS) }).strict())
      .max(20)
      .refine((files) => files.reduce((n, f) => n + f.content.length, 0) <= MAX_CALL_FILE_CHARS, {
        message: `the files of one call may hold at most ${MAX_CALL_FILE_CHARS} characters in all`,
      })
      .superRefine((files, ctx) => {
        const problem = fileSetProblem(files.map((f) => f.path));
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
  })
  .strict();
export type RunCodeInput = z.infer<typeof RunCodeInput>;

export const FinishInput = z
  .object({
    summary: z.string().min(1).max(8000).describe("what was done and how it was verified"),
    code: z.string().max(MAX_CODE_CHARS).describe("the final code"),
    verdict: z.enum(["success", "failure"]),
  })
  .strict();
export type FinishInput = z.infer<typeof FinishInput>;

export const CODER_TOOLS: ToolSpec[] = [
  {
    name: "run_code",
    description:
      "Run a program in a fresh sandbox whose working directory is the workspace. Returns the exit status, " +
      "stdout, stderr (with any traceback) and which files were written. Optional files are written to the " +
      "workspace before the program runs.",
    inputSchema: jsonSchemaOf(RunCodeInput),
  },
  {
    name: "finish",
    description: "End the current step once a run has verified its success criterion (or it cannot be met).",
    inputSchema: jsonSchemaOf(FinishInput),
  },
];

/** Why a tool call's input is unusable, in words for the model; null when it is fine. */
export function checkInput(call: ToolCallRecord): string | null {
  const { name, input, raw, oversized } = call;
  if (oversized !== undefined) {
    return (
      `the arguments of ${name} are ${oversized} characters, more than one reply may carry. ` +
      "Send smaller code, and let the code write large data itself."
    );
  }
  if (input === undefined) {
    return `the arguments of ${name} are not valid JSON${raw ? `: ${raw.slice(0, 200)}` : ""}. Send a JSON object.`;
  }
  const schema = name === "run_code" ? RunCodeInput : FinishInput;
  const parsed = schema.safeParse(input);
  return parsed.success ? null : `the arguments of ${name} are invalid: ${z.prettifyError(parsed.error)}`;
}

/** The first message of a step: the task, the plan, where we are, and what the workspace holds. */
export function stepBriefing(s: RunState, files: readonly string[]): string {
  const plan = s.plan ?? [];
  const step = s.step ?? 0;
  const current = plan[step];
  const lines = [`Task:\n${s.tasks.at(-1) ?? s.created?.task ?? ""}`];
  if (s.tasks.length > 1) {
    lines.push(
      `Earlier requests in this run:\n${s.tasks
        .slice(0, -1)
        .map((t, i) => `${i + 1}. ${t}`)
        .join("\n")}`,
    );
    if (s.earlierSummaries.length) lines.push(`What was done for them:\n${s.earlierSummaries.join("\n")}`);
  }
  if (plan.length > 1) {
    lines.push(`Plan:\n${plan.map((p, i) => `${i + 1}. ${p.goal}`).join("\n")}`);
    const done = s.finishedSteps.map((f, i) => `${i + 1}. ${f.summary}`);
    if (done.length) lines.push(`Steps done:\n${done.join("\n")}`);
  }
  if (current) {
    lines.push(
      `Current step (${step + 1} of ${plan.length}): ${current.goal}\nSuccess criterion: ${current.successCriterion}`,
    );
  }
  lines.push(files.length ? `Workspace files: ${files.join(", ")}` : "The workspace is empty.");
  return lines.join("\n\n");
}

/**
 * The current step's conversation, rebuilt from the log for any provider
 * (or a team participant's turn, after `first`, its view of the team).
 * Nothing in it varies but the turns themselves, so each request's prefix is
 * the previous request, byte for byte, up to where digests begin: the tool
 * results of replies older than the run's `fullTurns` go as digests.
 *
 * The cache breakpoint goes at the end of what the next request will repeat:
 * the newest turn, or, once digests begin, the message before the reply the
 * next request will digest. A breakpoint past that point would be written to
 * the cache and never read.
 */
export function conversation(s: RunState, first: string = stepBriefing(s, s.stepFiles)): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: "user", content: first }];
  const fullTurns = (s.created?.context ?? DEFAULT_CONTEXT_POLICY).fullTurns;
  const replies = s.turns.filter((t) => t.kind === "reply").length;
  const nextDigested = fullTurns === null ? -1 : replies - fullTurns;
  let breakpoint = -1;
  let reply = 0;
  for (const turn of s.turns) {
    if (turn.kind === "nudge") {
      messages.push({ role: "user", content: turn.message });
      continue;
    }
    if (reply === nextDigested) breakpoint = messages.length - 1;
    const old = fullTurns !== null && reply++ < replies - fullTurns;
    const { text, toolCalls } = turn.reply;
    messages.push({ role: "assistant", text, toolCalls: toolCalls.map((c) => (old ? digestCall(c) : { ...c })) });
    const results: ToolResult[] = [];
    for (const call of toolCalls) {
      const outcome = s.outcomes.get(call.id);
      if (!outcome) continue;
      if (old) results.push({ toolCallId: call.id, content: digestOutcome(outcome), isError: isError(outcome) });
      else results.push({ toolCallId: call.id, ...describeOutcome(outcome) });
    }
    if (results.length) messages.push({ role: "tool", results });
    if (turn.reply.droppedToolCalls) {
      messages.push({
        role: "user",
        content:
          `Only your first ${toolCalls.length} tool calls were kept; the other ${turn.reply.droppedToolCalls} ` +
          `were ignored. Make at most ${toolCalls.length} calls in one reply.`,
      });
    }
  }
  const marked = messages[breakpoint < 0 ? messages.length - 1 : breakpoint];
  if (marked) marked.cacheBreakpoint = true;
  return messages;
}

const STDERR_TAIL = 4000;
const STDOUT_HEAD = 2000;
const STDOUT_TAIL = 2000;

function tail(text: string, n: number): string {
  return text.length <= n ? text : `…(${text.length - n} characters cut)…\n${text.slice(-n)}`;
}

function headTail(text: string, head: number, tailChars: number): string {
  if (text.length <= head + tailChars) return text;
  return `${text.slice(0, head)}\n…(${text.length - head - tailChars} characters cut)…\n${text.slice(-tailChars)}`;
}

/** A concise, informative tool result: status, limit hit, stderr tail, stdout head and tail, files. */
export function describeExecution(r: PayloadOf<"execution.finished">): string {
  const status: Record<string, string> = {
    succeeded: "succeeded (exit code 0)",
    failed: `failed (exit code ${r.exitCode}${r.signal ? `, signal ${r.signal}` : ""})`,
    timed_out: "timed out: the program ran past its time limit and was killed",
    oom_killed: "killed: the program ran out of memory",
    output_limited: "killed: the program's output passed the output limit",
    cancelled: "cancelled",
    error: `did not run: ${r.error?.message ?? "the sandbox failed"}`,
  };
  const parts = [`status: ${status[r.status] ?? r.status}`, `duration: ${Math.round(r.durationMs)} ms`];
  if (r.files.length) parts.push(`files written: ${r.files.join(", ")}`);
  if (r.stderr) parts.push(`stderr${r.stderr.length > STDERR_TAIL ? " (tail)" : ""}:\n${tail(r.stderr, STDERR_TAIL)}`);
  if (r.stdout) parts.push(`stdout:\n${headTail(r.stdout, STDOUT_HEAD, STDOUT_TAIL)}`);
  else parts.push("stdout: (empty)");
  if (r.truncated.stdout || r.truncated.stderr) parts.push("(output was cut at the output limit)");
  return parts.join("\n");
}

function isError(o: CallOutcome): boolean {
  return o.kind !== "executed" || o.result.status !== "succeeded";
}

export function describeOutcome(o: CallOutcome): { content: string; isError: boolean } {
  switch (o.kind) {
    case "executed":
      return { content: describeExecution(o.result), isError: o.result.status !== "succeeded" };
    case "rejected":
      return { content: o.message, isError: true };
    case "denied":
      return {
        content: `A human reviewer denied running this code${o.reason ? `: ${o.reason}` : "."} Change your approach.`,
        isError: true,
      };
  }
}
