import { AgentList, ExecutionRequest, ExecutionResult, RunId, RunRequest, RunView } from "@edgeswarm/shared";
import { z } from "zod";

// The tools' schemas, taken field by field from the ones the HTTP API parses
// with. zod's `.pick()` refuses an object with refinements (both requests have
// one, on their files), so each field is named here; each handler then parses
// its arguments with the whole request schema again, refinements included.

/** How long `wait_run` may wait: the SDK client's default request timeout is 60 s, so a wait ends before it. */
export const WAIT_RUN_MS = { default: 30_000, max: 50_000 } as const;

const exec = ExecutionRequest.shape;

/** `run_code`'s arguments: an ExecutionRequest (`POST /v1/executions`) without its transport options. */
export const RunCodeInput = z
  .object({
    language: exec.language.describe("The interpreter: python (3.11 with the data stack), bash or node."),
    code: exec.code.describe("The program, run in a fresh sandbox with /workspace as its working directory."),
    files: exec.files.describe("Files written to /workspace before the program starts; relative paths."),
    stdin: exec.stdin.describe("Text on the program's standard input."),
    args: exec.args,
    env: exec.env,
    limits: exec.limits.describe("Per-execution limits (timeoutMs, memoryMb, cpus, …); the defaults are the API's."),
    pool: exec.pool,
  })
  .strict();

const run = RunRequest.shape;

/** `start_run`'s arguments: a RunRequest (`POST /v1/runs`) without `fromState` and `context`. */
export const StartRunInput = z
  .object({
    task: run.task.describe("What the run should do, in words: a planner splits it, a coder writes and runs code."),
    planner: run.planner.describe("The planner's model, or null to skip planning (the task is the one step)."),
    coder: run.coder,
    maxIterations: run.maxIterations,
    tokenBudget: run.tokenBudget,
    timeoutMs: run.timeoutMs,
    approval: run.approval,
    limits: run.limits,
    files: run.files.describe("Files the run's workspace starts with."),
    metadata: run.metadata,
    webhookUrl: run.webhookUrl,
    pool: run.pool,
    team: run.team,
  })
  .strict();

/** `get_run`'s arguments. */
export const GetRunInput = z.object({ id: RunId.describe("The run's id, as start_run answered it.") }).strict();

/** `wait_run`'s arguments. */
export const WaitRunInput = z
  .object({
    id: RunId.describe("The run's id, as start_run answered it."),
    timeoutMs: z
      .number()
      .int()
      .min(0)
      .max(WAIT_RUN_MS.max)
      .default(WAIT_RUN_MS.default)
      .describe(`How long to wait, at most ${WAIT_RUN_MS.max} ms; call again to wait longer.`),
  })
  .strict();

/** What each tool answers, as its structured content: the API's own answer schemas. */
export const RunCodeOutput = ExecutionResult;
export const StartRunOutput = RunView.pick({ id: true, status: true, traceId: true, links: true });
export const RunOutput = RunView;
export const AgentsOutput = AgentList;
