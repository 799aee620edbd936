import type { ExecutionOutcome, TraceCarrier } from "@edgeswarm/shared";
import { type Context, type Span, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { carrierOf } from "../telemetry/telemetry.ts";

/**
 * The spans of one execution in the pool: `pool.queue` while it waits for a
 * slot (again after a lease an agent let go), and `pool.lease` while an
 * agent holds it. The lease's context goes to the agent on exec.start, so
 * the agent's `execute` span is its child.
 */
export class JobSpans {
  readonly #tracer: Tracer;
  readonly #parent: Context;
  readonly #attributes: Record<string, string>;
  readonly #onEnd: () => void;
  #queue: Span | undefined;
  #lease: Span | undefined;

  /** `onEnd` is told when a span ended, so the pool can have it sent. */
  constructor(tracer: Tracer, parent: Context, attributes: Record<string, string>, onEnd: () => void) {
    this.#tracer = tracer;
    this.#parent = parent;
    this.#attributes = attributes;
    this.#onEnd = onEnd;
  }

  queued(position: number): void {
    if (this.#queue) return;
    this.#queue = this.#tracer.startSpan(
      "pool.queue",
      {
        kind: SpanKind.INTERNAL,
        startTime: Date.now(),
        attributes: { ...this.#attributes, "edgeswarm.queue.position": position },
      },
      this.#parent,
    );
  }

  /** The execution goes to an agent: the wait (if any) ends, the lease begins. Answers the agent's parent. */
  leased(agentId: string): TraceCarrier {
    this.#endQueue();
    this.#endLease("the lease was replaced");
    this.#lease = this.#tracer.startSpan(
      "pool.lease",
      {
        kind: SpanKind.PRODUCER,
        startTime: Date.now(),
        attributes: { ...this.#attributes, "edgeswarm.agent.id": agentId },
      },
      this.#parent,
    );
    return carrierOf(this.#lease);
  }

  /** The agent let the lease go unacknowledged; the execution waits again. */
  unacknowledged(): void {
    this.#endLease("the agent did not acknowledge the lease in time");
  }

  /** The execution ended: whatever span is open ends with its outcome. */
  ended(outcome: ExecutionOutcome | { error: { code: string; message: string } }): void {
    const span = this.#lease ?? this.#queue;
    if (!span) return;
    if ("status" in outcome) span.setAttribute("edgeswarm.execution.status", outcome.status);
    if (outcome.error) {
      span.setAttribute("error.type", outcome.error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.code });
    }
    this.#endQueue();
    this.#endLease();
  }

  #endQueue(): void {
    if (!this.#queue) return;
    this.#queue.end(Date.now());
    this.#queue = undefined;
    this.#onEnd();
  }

  #endLease(error?: string): void {
    if (!this.#lease) return;
    if (error) this.#lease.setStatus({ code: SpanStatusCode.ERROR, message: error });
    this.#lease.end(Date.now());
    this.#lease = undefined;
    this.#onEnd();
  }
}
