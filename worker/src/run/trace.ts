import type { ModelRef, RunEvent, RunEventOf, RunTrace, TraceCarrier } from "@edgeswarm/shared";
import { type Attributes, type Context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ModelClient } from "../models/model.ts";
import { type DurableSpan, newSpanId } from "../telemetry/durable.ts";
import { tracedModel } from "../telemetry/genai.ts";
import { carrierOf, content, type Telemetry } from "../telemetry/telemetry.ts";
import { type RunState, runUsage } from "./state.ts";

/** The team a run without `team` has (issue 14 makes it configurable). */
const TEAM = "default";

/** Events that become span events: retries, approvals, rejected tool calls. */
const SPAN_EVENT_TYPES: readonly RunEvent["type"][] = [
  "model.retry",
  "execution.retry",
  "approval.requested",
  "approval.decided",
  "tool.rejected",
];
/** Where steps begin and end. */
const BOUNDARY_TYPES: readonly RunEvent["type"][] = ["step.started", "step.finished", "run.finished"];

/** A run's place in a new trace: a child of `parent` (the POST's server span), with a root span id of its own. */
export function newRunTrace(parent: Context): RunTrace {
  const span = trace.getSpanContext(parent);
  return {
    traceId: span?.traceId ?? "",
    spanId: newSpanId(),
    parentSpanId: span?.spanId ?? null,
    sampled: ((span?.traceFlags ?? 0) & 1) === 1,
    ...(span?.traceState ? { tracestate: span.traceState.serialize() } : {}),
  };
}

/** The run's root span as a carrier, for its webhook; undefined for a run from before tracing. */
export function rootCarrier(tr: RunTrace | undefined): TraceCarrier | undefined {
  if (!tr) return undefined;
  return {
    traceparent: `00-${tr.traceId}-${tr.spanId}-${tr.sampled ? "01" : "00"}`,
    ...(tr.tracestate ? { tracestate: tr.tracestate } : {}),
  };
}

/** What the tracer reads of its run. */
export interface TracedRun {
  id(): string;
  state(): RunState;
  /** The run's events of these types, oldest first (read only when a durable span ends). */
  events(types: readonly RunEvent["type"][]): RunEvent[];
}

/**
 * A run's spans, after the OpenTelemetry GenAI conventions (genai.ts):
 * - `invoke_workflow default`, the root, from run.created to the first run.finished;
 *   each later task turn (run.continued to its run.finished) is one more, under the root;
 * - `invoke_agent coder`, one per step, from step.started to its end;
 * - `chat {model}` for each model call, under its step (the planner's under the root);
 * - `execute_tool run_code` for each execution, the parent of the pool's and the agent's spans.
 * The root and the steps outlive isolates: their ids are stored in the log
 * (run.created, step.started) and they are written out whole when the event
 * that ends them is appended, with the log's retries, approvals and rejected
 * calls as span events. The model and tool spans are live spans.
 */
export class RunTracer {
  readonly #t: Telemetry;
  readonly #run: TracedRun;
  readonly #flush: () => void;

  /** `flush` has ended spans sent soon (the object's waitUntil). */
  constructor(t: Telemetry, run: TracedRun, flush: () => void) {
    this.#t = t;
    this.#run = run;
    this.#flush = flush;
  }

  /** The run's stored trace; undefined for a run from before tracing. */
  get #trace(): RunTrace | undefined {
    return this.#run.state().created?.trace;
  }

  #context(spanId: string): Context {
    const tr = this.#trace;
    if (!tr) return ROOT_CONTEXT;
    return trace.setSpanContext(ROOT_CONTEXT, {
      traceId: tr.traceId,
      spanId,
      traceFlags: tr.sampled ? 1 : 0,
      isRemote: true,
    });
  }

  /** The parent of what happens now: the step's span, or outside a step the task turn's. */
  current(): Context {
    const tr = this.#trace;
    if (!tr) return ROOT_CONTEXT;
    return this.#context(this.#run.state().stepSpan?.spanId ?? this.#turnSpanId(tr));
  }

  /** The span of the current task turn: the root's for the first, a span of its own for each later one. */
  #turnSpanId(tr: RunTrace): string {
    return this.#run.state().turnSpan?.spanId ?? tr.spanId;
  }

  /** The model client, each call a `chat` span under the current step. */
  model(client: ModelClient, ref: ModelRef): ModelClient {
    return tracedModel(client, ref, this.#t, this.current(), this.#flush);
  }

  /**
   * Runs one execution inside an `execute_tool run_code` span; `run` gets the
   * span's carrier for the pool, so that the pool's and the agent's spans are
   * its children. `describe` reads the result onto the span.
   */
  async tool<T>(
    toolCallId: string,
    run: (carrier: TraceCarrier) => Promise<T>,
    describe: (result: T) => { executionId?: string; status?: string; error?: string; output?: string },
  ): Promise<T> {
    const span = this.#t.tracer.startSpan(
      "execute_tool run_code",
      {
        kind: SpanKind.INTERNAL,
        startTime: Date.now(),
        attributes: {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": "run_code",
          "gen_ai.tool.type": "function",
          "gen_ai.tool.call.id": toolCallId,
        },
      },
      this.current(),
    );
    try {
      const result = await run(carrierOf(span));
      const d = describe(result);
      if (d.executionId) span.setAttribute("edgeswarm.execution.id", d.executionId);
      if (d.status) span.setAttribute("edgeswarm.execution.status", d.status);
      if (d.error) {
        span.setAttribute("error.type", d.error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: d.error });
      }
      const output = d.output === undefined ? undefined : content(this.#t, d.output);
      if (output !== undefined) span.setAttribute("gen_ai.tool.call.result", output);
      return result;
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: "aborted" });
      throw err;
    } finally {
      span.end(Date.now());
      this.#flush();
    }
  }

  /** After each append: writes out the durable spans the event ends. */
  onEvent(event: RunEvent): void {
    const tr = this.#trace;
    if (!tr) return;
    if (event.type === "step.finished") this.#endStep(tr, event.at, event.seq);
    if (event.type === "run.finished") {
      const s = this.#run.state();
      // A step still open when the run ended ends with it.
      if (s.step !== null && s.finishedSteps.length <= s.step)
        this.#endStep(tr, event.at, event.seq, event.payload.reason ?? undefined);
      this.#endRoot(tr, event);
    }
    if (event.type === "step.finished" || event.type === "run.finished") this.#flush();
  }

  #endStep(tr: RunTrace, at: string, seq: number, error?: string): void {
    const s = this.#run.state();
    const open = s.stepSpan;
    if (!open || s.step === null) return;
    const goal = s.plan?.[s.step]?.goal;
    const goalText = goal === undefined ? undefined : content(this.#t, goal);
    this.#t.record({
      ...this.#ids(tr, open.spanId, this.#turnSpanId(tr)),
      name: "invoke_agent coder",
      startMs: Date.parse(open.at),
      endMs: Date.parse(at),
      attributes: {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "coder",
        "edgeswarm.run.id": this.#run.id(),
        "edgeswarm.step": s.step,
        ...(goalText !== undefined ? { "edgeswarm.step.goal": goalText } : {}),
      },
      events: this.#spanEvents((e) => e.seq > open.seq && e.seq <= seq),
      ...(error ? { error } : {}),
    });
  }

  /**
   * Ends the task turn's workflow span: the root at the first run.finished,
   * the turn's own span (a child of the root) at each later one. Each is
   * recorded once; usage is the run's so far.
   */
  #endRoot(tr: RunTrace, end: RunEventOf<"run.finished">): void {
    const s = this.#run.state();
    const turn = s.turnSpan;
    // A later turn of a run from before turn spans: the root was recorded at the first end.
    if (s.tasks.length > 1 && !turn) return;
    const steps = this.#stepRanges();
    const inStep = (seq: number) => steps.some(([from, to]) => seq > from && seq <= to);
    const inTurn = (seq: number) => !turn || seq > turn.seq;
    const usage = runUsage(s);
    const failed = end.payload.status !== "succeeded";
    this.#t.record({
      ...(turn ? this.#ids(tr, turn.spanId, tr.spanId) : this.#ids(tr, tr.spanId, tr.parentSpanId)),
      name: `invoke_workflow ${TEAM}`,
      startMs: Date.parse((turn ? turn.at : s.createdAt) ?? end.at),
      endMs: Date.parse(end.at),
      attributes: {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.agent.name": TEAM,
        "edgeswarm.run.id": this.#run.id(),
        "edgeswarm.tenant": s.created?.tenant ?? "",
        "edgeswarm.run.status": end.payload.status,
        "edgeswarm.run.iterations": s.iterations,
        "edgeswarm.run.turn": s.tasks.length,
        "gen_ai.usage.input_tokens": usage.inputTokens,
        "gen_ai.usage.output_tokens": usage.outputTokens,
      },
      events: [
        ...this.#spanEvents((e) => inTurn(e.seq) && !inStep(e.seq)),
        // The limit or decision that ended the run.
        {
          name: "run.finished",
          atMs: Date.parse(end.at),
          attributes: { "edgeswarm.run.status": end.payload.status, "edgeswarm.run.reason": end.payload.reason ?? "" },
        },
      ],
      ...(failed ? { error: end.payload.reason ?? end.payload.status } : {}),
    });
  }

  #ids(tr: RunTrace, spanId: string, parentSpanId: string | null) {
    return { traceId: tr.traceId, spanId, parentSpanId, sampled: tr.sampled } satisfies Partial<DurableSpan>;
  }

  /** Each step's (started seq, ended seq] in the log. */
  #stepRanges(): [number, number][] {
    const ranges: [number, number][] = [];
    let open: number | null = null;
    for (const e of this.#run.events(BOUNDARY_TYPES)) {
      if (e.type === "step.started") open = e.seq;
      if ((e.type === "step.finished" || e.type === "run.finished") && open !== null) {
        ranges.push([open, e.seq]);
        open = null;
      }
    }
    return ranges;
  }

  #spanEvents(keep: (e: RunEvent) => boolean): DurableSpan["events"] {
    return this.#run
      .events(SPAN_EVENT_TYPES)
      .filter(keep)
      .map((e) => ({ name: e.type, atMs: Date.parse(e.at), attributes: eventAttributes(e) }));
  }
}

/** What a span event says of its run event: kinds and counts, never content. */
function eventAttributes(e: RunEvent): Attributes {
  switch (e.type) {
    case "model.retry":
      return {
        "edgeswarm.role": e.payload.role,
        "edgeswarm.attempt": e.payload.attempt,
        "edgeswarm.delay_ms": e.payload.delayMs,
      };
    case "execution.retry":
      return {
        "gen_ai.tool.call.id": e.payload.toolCallId,
        "edgeswarm.attempt": e.payload.attempt,
        "edgeswarm.retry.reason": e.payload.reason,
      };
    case "approval.requested":
      return { "gen_ai.tool.call.id": e.payload.toolCallId };
    case "approval.decided":
      return { "gen_ai.tool.call.id": e.payload.toolCallId, "edgeswarm.approved": e.payload.approve };
    case "tool.rejected":
      return { "gen_ai.tool.call.id": e.payload.toolCallId, "gen_ai.tool.name": e.payload.name };
    default:
      return {};
  }
}
