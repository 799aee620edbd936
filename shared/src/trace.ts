import { z } from "zod";

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as edgeswarm
 * carries it between its parts: from the Worker into its Durable Objects, on
 * `exec.start` to an agent, and on webhook deliveries. Version 00 only; a
 * trace or parent id of all zeros is invalid, as the spec says.
 */
export const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The spec's own bound on tracestate: 32 list members of at most 256 characters each. */
export const TRACESTATE_MAX_CHARS = 512;

export const TraceCarrier = z.object({
  traceparent: z.string().regex(TRACEPARENT),
  tracestate: z.string().max(TRACESTATE_MAX_CHARS).optional(),
});
export type TraceCarrier = z.infer<typeof TraceCarrier>;

/** A trace id: 32 lowercase hex digits, as the API shows it. */
export const TraceId = z.string().regex(/^[0-9a-f]{32}$/);

/** The trace id in a traceparent. */
export function traceIdOf(carrier: TraceCarrier): string {
  return carrier.traceparent.slice(3, 35);
}

/** A span id: 16 lowercase hex digits. */
export const SpanId = z.string().regex(/^[0-9a-f]{16}$/);

/**
 * A run's place in its trace, stored with the run (its run.created event), so
 * that a run re-driven after a restart continues the same trace: the trace
 * id, the id of the run's root span (`invoke_workflow`), the span that
 * created it (the POST's server span), and whether the trace is sampled.
 */
export const RunTrace = z.object({
  traceId: TraceId,
  spanId: SpanId,
  parentSpanId: SpanId.nullable(),
  sampled: z.boolean(),
  tracestate: z.string().max(TRACESTATE_MAX_CHARS).optional(),
});
export type RunTrace = z.infer<typeof RunTrace>;
