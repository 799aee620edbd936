import { type Attributes, SpanKind, SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import { millisToHrTime } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";

/**
 * A span that outlives any one isolate: a run's root span and its steps.
 * Its ids are made when it starts and stored with the run; it is written out
 * once, whole, when the event that ends it is appended, from what the run's
 * log says. So a run re-driven after a restart continues the same spans,
 * and none is sent twice.
 */
export interface DurableSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  sampled: boolean;
  name: string;
  kind?: SpanKind;
  startMs: number;
  endMs: number;
  attributes: Attributes;
  events: { name: string; atMs: number; attributes?: Attributes }[];
  /** Set when it ended in failure: the error's type. */
  error?: string;
}

/** A new span id (W3C: 8 random bytes, not all zero). */
export function newSpanId(): string {
  for (;;) {
    const id = [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, "0")).join("");
    if (id !== "0000000000000000") return id;
  }
}

/** The span as the SDK's exporters take it. */
export function readableSpan(
  span: DurableSpan,
  resource: Resource,
  scope: { name: string; version: string },
): ReadableSpan {
  const flags = span.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE;
  const end = Math.max(span.startMs, span.endMs);
  return {
    name: span.name,
    kind: span.kind ?? SpanKind.INTERNAL,
    spanContext: () => ({ traceId: span.traceId, spanId: span.spanId, traceFlags: flags }),
    ...(span.parentSpanId
      ? { parentSpanContext: { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: flags, isRemote: true } }
      : {}),
    startTime: millisToHrTime(span.startMs),
    endTime: millisToHrTime(end),
    duration: millisToHrTime(end - span.startMs),
    status: span.error ? { code: SpanStatusCode.ERROR, message: span.error } : { code: SpanStatusCode.UNSET },
    attributes: span.error ? { ...span.attributes, "error.type": span.error } : span.attributes,
    links: [],
    events: span.events.map((e) => ({ name: e.name, time: millisToHrTime(e.atMs), attributes: e.attributes ?? {} })),
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
