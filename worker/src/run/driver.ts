import {
  type EventSource,
  type PayloadOf,
  QUEUE_TIMEOUT_MS,
  type RunEvent,
  type RunEventType,
  type ToolCallRecord,
} from "@edgeswarm/shared";
import { type Config, loadConfig } from "../config.ts";
import type { Env } from "../env.ts";
import { resolveModel } from "../models/config.ts";
import { createModel } from "../models/index.ts";
import { ModelError } from "../models/model.ts";
import { CODER_SYSTEM, CODER_TOOLS, checkInput, conversation, FinishInput, RunCodeInput } from "../roles/coder.ts";
import { type ExecutionAttempt, executeCall } from "../roles/executor.ts";
import { makePlan } from "../roles/planner.ts";
import { keepReply } from "../roles/reply.ts";
import { newSpanId } from "../telemetry/durable.ts";
import { type Action, MAX_MODEL_RETRIES, nextAction } from "./loop.ts";
import type { ExecutionRetry, RunState } from "./state.ts";
import type { RunTracer } from "./trace.ts";
import { type Workspace, workspaceProblem } from "./workspace.ts";

/** However short its queue wait, a run tries this long to reach a failing pool again. */
const POOL_RETRY_MIN_MS = 10_000;
/** Most actions one drive performs before yielding to the next alarm (a bound, not a limit users meet). */
const MAX_ACTIONS_PER_DRIVE = 500;

/** What the driver needs from its Durable Object. */
export interface RunContext {
  env: Env;
  state(): RunState;
  append<T extends RunEventType>(type: T, source: EventSource, payload: PayloadOf<T>, idem: string): RunEvent | null;
  workspace: Workspace;
  /** Keeps work going after the call that started it (the object's waitUntil). */
  waitUntil(work: Promise<unknown>): void;
  /** The run's spans (trace.ts). */
  tracer: RunTracer;
}

/**
 * Performs the run's actions (see loop.ts) one after another. Each effect
 * starts from persisted state and appends its result under an idempotency key
 * made of the action and the log's last seq when it was decided: after a
 * restart the same action is decided again and its result, if it already
 * landed, is not appended twice.
 */
export class Driver {
  readonly #ctx: RunContext;
  #inflight: AbortController | null = null;

  constructor(ctx: RunContext) {
    this.#ctx = ctx;
  }

  /** Aborts the effect in flight (a model call or an execution, whose container is then killed). */
  abort(reason: string): void {
    this.#inflight?.abort(new Error(reason));
  }

  /** Drives the run until it ends, parks (approval) or must wait (a retry). */
  async drive(): Promise<Action> {
    const deadlineTimer = this.#armDeadline();
    try {
      for (let i = 0; i < MAX_ACTIONS_PER_DRIVE; i++) {
        const s = this.#ctx.state();
        const action = nextAction(s, Date.now());
        if (action.kind === "idle" || action.kind === "wait") return action;
        await this.#perform(action, s, `${action.kind}:${s.lastSeq}`);
      }
      return { kind: "wait", until: Date.now() };
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  /** Ends the run at its deadline even while an effect is in flight. */
  #armDeadline(): ReturnType<typeof setTimeout> | undefined {
    const s = this.#ctx.state();
    if (!s.created || !s.createdAt) return undefined;
    const left = Date.parse(s.createdAt) + s.created.timeoutMs - Date.now();
    return setTimeout(
      () => {
        const now = this.#ctx.state();
        this.#ctx.append(
          "run.finished",
          "loop",
          {
            status: "timed_out",
            reason: "timed_out",
            message: `the run passed its timeoutMs of ${s.created?.timeoutMs}`,
          },
          `deadline:${now.lastSeq}`,
        );
        this.abort("the run timed out");
      },
      Math.max(0, left),
    );
  }

  async #perform(action: Action, s: RunState, key: string): Promise<void> {
    const ctx = this.#ctx;
    const step = s.step ?? 0;
    switch (action.kind) {
      case "end":
        ctx.append(
          "run.finished",
          "loop",
          { status: action.status, reason: action.reason, message: action.message },
          key,
        );
        return;
      case "skip_plan":
        ctx.append(
          "plan.created",
          "loop",
          {
            steps: [{ goal: s.created?.task ?? "", successCriterion: "the task is done, as a run of code shows" }],
            skipped: true,
            usage: null,
          },
          key,
        );
        return;
      case "plan":
        return this.#model("planner", s, key, async (signal) => {
          const planner = s.created?.planner;
          if (!planner) return;
          const plan = await makePlan(
            ctx.tracer.model(createModel(resolveModel(planner, await loadConfig(ctx.env))), planner),
            s.created?.task ?? "",
            ctx.workspace.all().map((f) => f.path),
            signal,
          );
          ctx.append("plan.created", "planner", { steps: plan.steps, skipped: false, usage: plan.usage }, key);
        });
      case "start_step":
        ctx.append("step.started", "loop", { step: action.step, spanId: newSpanId() }, key);
        return;
      case "call_coder":
        return this.#model("coder", s, key, async (signal) => {
          const coder = s.created?.coder;
          if (!coder) return;
          const files = ctx.workspace.all().map((f) => f.path);
          const model = ctx.tracer.model(createModel(resolveModel(coder, await loadConfig(ctx.env))), coder);
          const reply = await model.chat({
            system: CODER_SYSTEM,
            messages: conversation(s, files),
            tools: CODER_TOOLS,
            maxTokens: 8192,
            signal,
          });
          const kept = keepReply(reply, s.toolCallCount + 1);
          ctx.append(
            "coder.replied",
            "coder",
            {
              step,
              text: kept.text,
              toolCalls: kept.toolCalls,
              ...(kept.droppedToolCalls > 0 ? { droppedToolCalls: kept.droppedToolCalls } : {}),
              usage: reply.usage,
            },
            key,
          );
        });
      case "nudge":
        ctx.append("tool.rejected", "loop", { step, toolCallId: "", name: "", message: action.message }, key);
        return;
      case "reject":
        this.#reject(step, action.call, action.message, key);
        return;
      case "ask_approval": {
        const input = this.#validInput(step, action.call, key);
        if (!input) return;
        const run = RunCodeInput.parse(input);
        // Everything the call would run is shown for approval: its code and the files it writes first.
        ctx.append(
          "approval.requested",
          "loop",
          { step, toolCallId: action.call.id, language: run.language, code: run.code, files: run.files ?? [] },
          key,
        );
        return;
      }
      case "execute":
        return this.#execute(step, action.call, s, key);
      case "finish_step": {
        const input = this.#validInput(step, action.call, key);
        if (!input) return;
        const finish = FinishInput.parse(input);
        ctx.append(
          "step.finished",
          "coder",
          { step, summary: finish.summary, code: finish.code, verdict: finish.verdict },
          key,
        );
        return;
      }
    }
  }

  /** The call's input if valid; otherwise the call is rejected (an iteration) and null returned. */
  #validInput(step: number, call: ToolCallRecord, key: string): unknown {
    const problem = checkInput(call);
    if (!problem) return call.input;
    this.#reject(step, call, problem, key);
    return null;
  }

  #reject(step: number, call: ToolCallRecord, message: string, key: string): void {
    this.#ctx.append("tool.rejected", "loop", { step, toolCallId: call.id, name: call.name, message }, key);
  }

  async #execute(step: number, call: ToolCallRecord, s: RunState, key: string): Promise<void> {
    const ctx = this.#ctx;
    const input = this.#validInput(step, call, key);
    const created = s.created;
    if (!input || !created) return;
    const run = RunCodeInput.parse(input);
    const retry = s.executionRetries.get(call.id);
    const workspace = ctx.workspace.all();
    const unfit = workspaceProblem(workspace, run);
    if (unfit) return this.#reject(step, call, unfit, key);
    let config: Config;
    try {
      config = await loadConfig(ctx.env);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      ctx.append("run.finished", "executor", { status: "failed", reason: "internal_error", message }, key);
      return;
    }
    const limits = config.tenantLimits(created.tenant);
    const attempt = await this.#inflightDo((signal) =>
      ctx.tracer.tool(
        call.id,
        (trace) =>
          executeCall(
            ctx.env,
            {
              pool: created.pool,
              tenant: {
                id: created.tenant,
                concurrentExecutions: limits.concurrentExecutions,
                queuedExecutions: limits.queuedExecutions,
              },
              limits: created.limits,
              queueTimeoutMs: created.queueTimeoutMs ?? QUEUE_TIMEOUT_MS.default,
              queueMax: config.queueMax,
              trace,
            },
            run,
            workspace,
            signal,
            (work) => ctx.waitUntil(work),
          ),
        (a) =>
          a.kind === "done"
            ? {
                executionId: a.summary.id,
                status: a.summary.status,
                ...(a.summary.error ? { error: a.summary.error.code } : {}),
                output: a.stdout,
              }
            : { error: a.error.code },
      ),
    );
    if (!attempt) return; // aborted: the run was cancelled or timed out
    if (attempt.kind === "unavailable" && attempt.error.code === "payload_too_large") {
      // Nothing can run it as it is: the coder is told, as for any unusable call.
      return this.#reject(
        step,
        call,
        `this call cannot run: ${attempt.error.message}. Remove files or send less.`,
        key,
      );
    }

    if (attempt.kind !== "done") {
      this.#noSandbox(call, attempt, created.queueTimeoutMs ?? QUEUE_TIMEOUT_MS.default, retry, key);
      return;
    }

    const { summary, stdout, stderr } = attempt;
    if (summary.error?.code === "agent_lost" && (retry?.agentLost ?? 0) < 1) {
      // Lost with its agent: once more, on another agent, not counted as an iteration.
      const n = (retry?.attempt ?? 0) + 1;
      ctx.append(
        "execution.retry",
        "executor",
        { toolCallId: call.id, attempt: n, reason: "agent_lost", delayMs: 0, message: summary.error.message },
        key,
      );
      return;
    }
    const { stored, refused } = ctx.workspace.put(summary.files);
    const error =
      refused.length > 0
        ? { code: "files_truncated", message: `not kept: ${refused.map((r) => `${r.path} (${r.why})`).join(", ")}` }
        : summary.error
          ? { code: summary.error.code, message: summary.error.message }
          : null;
    ctx.append(
      "execution.finished",
      "executor",
      {
        step,
        iteration: s.iterations + 1,
        toolCallId: call.id,
        executionId: summary.id,
        agentId: summary.agentId,
        language: run.language,
        status: summary.status,
        exitCode: summary.exitCode,
        signal: summary.signal,
        durationMs: summary.durationMs,
        stdout,
        stderr,
        truncated: summary.truncated,
        files: stored,
        error,
      },
      key,
    );
  }

  /**
   * No sandbox took the call. It already waited its turn in the pool's queue,
   * so a slot that never came ends the run. A refusal that came at once (the
   * queue full, the tenant's waiting quota) or a failed pool is tried again
   * within the same wait.
   */
  #noSandbox(
    call: ToolCallRecord,
    attempt: Exclude<ExecutionAttempt, { kind: "done" }>,
    queueWaitMs: number,
    retry: ExecutionRetry | undefined,
    key: string,
  ): void {
    const ctx = this.#ctx;
    const { code, message: why, details } = attempt.error;
    const failed = attempt.kind === "pool_failed";
    const refusedAtOnce =
      code === "queue_full" ||
      (code === "quota_exceeded" && !Array.isArray(details) && details?.quota === "queuedExecutions");
    const budget = failed ? Math.max(queueWaitMs, POOL_RETRY_MIN_MS) : queueWaitMs;
    const waited = Date.now() - (retry?.firstAt ?? Date.now());
    if ((!failed && !refusedAtOnce) || waited >= budget) {
      const message = `no sandbox was available (${code}: ${why})`;
      ctx.append("run.finished", "executor", { status: "failed", reason: "no_sandbox_available", message }, key);
      return;
    }
    const n = (retry?.attempt ?? 0) + 1;
    // A failed pool is tried again at once, then after a growing pause, as a full one is.
    const delayMs = failed && n === 1 ? 0 : Math.min(5_000, 250 * 2 ** n);
    const reason = failed ? "pool_unavailable" : "no_sandbox";
    ctx.append("execution.retry", "executor", { toolCallId: call.id, attempt: n, reason, delayMs, message: why }, key);
  }

  /** Runs a model call; a failure is retried durably (model.retry) or ends the run `model_error`. */
  async #model(
    role: "planner" | "coder",
    s: RunState,
    key: string,
    call: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    try {
      await this.#inflightDo(call);
    } catch (err) {
      const ctx = this.#ctx;
      const e =
        err instanceof ModelError ? err : new ModelError(`${role} call failed: ${String(err)}`, { retryable: false });
      const attempt = (s.modelRetries?.role === role ? s.modelRetries.attempt : 0) + 1;
      if (e.retryable && attempt <= MAX_MODEL_RETRIES) {
        const backoff = Math.min(30_000, 500 * 2 ** attempt);
        const delayMs = Math.max(0, Math.round(e.retryAfterMs ?? backoff * (0.5 + Math.random() / 2)));
        ctx.append("model.retry", role, { role, attempt, delayMs, message: e.message }, key);
        return;
      }
      ctx.append("run.finished", role, { status: "failed", reason: "model_error", message: e.message }, key);
    }
  }

  /** Runs an effect that cancel and the deadline can abort; undefined when aborted. */
  async #inflightDo<T>(effect: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    const abort = new AbortController();
    this.#inflight = abort;
    try {
      return await effect(abort.signal);
    } catch (err) {
      if (abort.signal.aborted) return undefined;
      throw err;
    } finally {
      this.#inflight = null;
    }
  }
}
