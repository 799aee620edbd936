import {
  backoffDelay,
  DEFAULT_CONTEXT_POLICY,
  type EventSource,
  type PayloadOf,
  type RunEvent,
  type RunEventType,
} from "@edgeswarm/shared";
import { loadConfig } from "../config.ts";
import type { Env } from "../env.ts";
import { resolveModel } from "../models/config.ts";
import { createModel } from "../models/index.ts";
import { ModelError } from "../models/model.ts";
import { CODER_SYSTEM, CODER_TOOLS, conversation, FinishInput, RunCodeInput } from "../roles/coder.ts";
import { makePlan } from "../roles/planner.ts";
import { keepReply } from "../roles/reply.ts";
import { withSandbox } from "../roles/sandbox-brief.ts";
import { type ModelRole, performTeam, type TeamEffects } from "../team/speakers.ts";
import { newSpanId } from "../telemetry/durable.ts";
import { executeCalls, rejectCall, validInput } from "./execute.ts";
import { type Action, deadlineOf, MAX_MODEL_RETRIES, nextAction } from "./loop.ts";
import { describeSandbox } from "./sandbox.ts";
import { type RunState, taskForPlanner } from "./state.ts";
import type { RunTracer } from "./trace.ts";
import type { Workspace } from "./workspace.ts";

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
  readonly #team: TeamEffects;
  #inflight: AbortController | null = null;

  constructor(ctx: RunContext) {
    this.#ctx = ctx;
    this.#team = {
      ctx,
      model: (role, s, key, call) => this.#model(role, s, key, call),
      client: async (ref) => ctx.tracer.model(createModel(resolveModel(ref, await loadConfig(ctx.env))), ref),
      sandbox: (s) => this.#sandbox(s),
    };
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
    const left = deadlineOf(s) - Date.now();
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
          {
            status: action.status,
            reason: action.reason,
            message: action.message,
            ...(action.stoppedBy ? { stoppedBy: action.stoppedBy } : {}),
          },
          key,
        );
        return;
      case "skip_plan":
        ctx.append(
          "plan.created",
          "loop",
          {
            steps: [{ goal: s.tasks.at(-1) ?? "", successCriterion: "the task is done, as a run of code shows" }],
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
            taskForPlanner(s),
            s.created?.files ?? [],
            await this.#sandbox(s),
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
          const model = ctx.tracer.model(createModel(resolveModel(coder, await loadConfig(ctx.env))), coder);
          const reply = await model.chat({
            system: withSandbox(CODER_SYSTEM, await this.#sandbox(s)),
            messages: conversation(s),
            tools: CODER_TOOLS,
            maxTokens: 8192,
            cache: (s.created?.context ?? DEFAULT_CONTEXT_POLICY).promptCache,
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
        rejectCall(this.#ctx, step, action.call, action.message, key);
        return;
      case "ask_approval":
        for (const call of action.calls) {
          const callKey = `${key}:${call.id}`;
          const input = validInput(this.#ctx, step, call, callKey);
          if (!input) continue;
          const run = RunCodeInput.parse(input);
          // Everything the call would run is shown for approval: its code and the files it writes first.
          ctx.append(
            "approval.requested",
            "loop",
            { step, toolCallId: call.id, language: run.language, code: run.code, files: run.files ?? [] },
            callKey,
          );
        }
        return;
      case "execute":
        return executeCalls(ctx, (effect) => this.#inflightDo(effect), step, action.calls, s, key);
      case "speak":
      case "hand_off":
      case "select":
      case "fall_back":
      case "task_ledger":
      case "progress_ledger":
        return performTeam(this.#team, action, s, key);
      case "finish_step": {
        const input = validInput(this.#ctx, step, action.call, key);
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

  /** The sandbox's description for a prompt: the run's own, or, if it has none, the pool's now. */
  async #sandbox(s: RunState): Promise<string | null> {
    const created = s.created;
    if (!created) return null;
    return created.sandbox ?? (await describeSandbox(this.#ctx.env, created.pool));
  }

  /** Runs a model call; a failure is retried durably (model.retry) or ends the run `model_error`. */
  async #model(role: ModelRole, s: RunState, key: string, call: (signal: AbortSignal) => Promise<void>): Promise<void> {
    try {
      await this.#inflightDo(call);
    } catch (err) {
      const ctx = this.#ctx;
      const e =
        err instanceof ModelError ? err : new ModelError(`${role} call failed: ${String(err)}`, { retryable: false });
      const attempt = (s.modelRetries?.role === role ? s.modelRetries.attempt : 0) + 1;
      if (e.retryable && attempt <= MAX_MODEL_RETRIES) {
        const backoff = backoffDelay(attempt, { baseMs: 500, maxMs: 30_000, jitter: 0.5 });
        const delayMs = Math.max(0, Math.round(e.retryAfterMs ?? backoff));
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
