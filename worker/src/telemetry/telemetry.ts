import {
  EDGESWARM_VERSION,
  OTEL_VARIABLES,
  type OtelVariable,
  parseOtelEnv,
  samplerFor,
  TraceCarrier,
} from "@edgeswarm/shared";
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import * as sdk from "@opentelemetry/sdk-trace";
import { AlwaysOffSampler, TracerProvider } from "@opentelemetry/sdk-trace";
import type { Env } from "../env.ts";
import { type DurableSpan, readableSpan } from "./durable.ts";
import { SpanOutbox } from "./outbox.ts";

/** The longest prompt or output text a span carries when EDGESWARM_TRACE_CONTENT=1. */
export const TRACE_CONTENT_CHARS = 2_048;
/** How long flushSoon gathers spans before it sends them. */
const FLUSH_DELAY_MS = 50;
/** At most one log line a minute about dropped spans. */
const DROP_LOG_INTERVAL_MS = 60_000;

/** An isolate's tracing: one per set of OTEL_* values (see docs/observability.md). */
export interface Telemetry {
  readonly tracer: Tracer;
  /** Set when an endpoint is configured; null: spans are made (for their ids) but go nowhere. */
  readonly outbox: SpanOutbox | null;
  /** EDGESWARM_TRACE_CONTENT=1: prompts and program output go into spans, cut to TRACE_CONTENT_CHARS. */
  readonly content: boolean;
  /** Sends the ended spans; never rejects. Give it to waitUntil. */
  flush(): Promise<void>;
  /**
   * Flushes in FLUSH_DELAY_MS, so that the spans that end together go in one
   * export; for objects, whose spans end outside any request's answer.
   */
  flushSoon(waitUntil: (work: Promise<unknown>) => void): void;
  /** Queues a span kept outside the SDK (durable.ts), if its trace is sampled. */
  record(span: DurableSpan): void;
}

const propagator = new W3CTraceContextPropagator();
let current: { key: string; telemetry: Telemetry } | undefined;

/**
 * The isolate's Telemetry for these bindings. Made on first use and kept
 * while the OTEL_* values stay the same. A mistake in them is logged once
 * (naming the variable, never its value) and turns export off: tracing must
 * never fail a request.
 */
export function telemetry(env: Env): Telemetry {
  const vars: Partial<Record<OtelVariable, string>> = {};
  for (const name of OTEL_VARIABLES) vars[name] = env[name];
  const key = JSON.stringify([vars, env.EDGESWARM_TRACE_CONTENT]);
  if (current?.key === key) return current.telemetry;

  const { settings, problems } = parseOtelEnv(vars, "edgeswarm-worker");
  if (problems.length > 0) console.error(`tracing export is off: ${problems.join("; ")}`);
  let lastDropLog = 0;
  const outbox =
    settings.tracesUrl && problems.length === 0
      ? new SpanOutbox({ url: settings.tracesUrl, headers: settings.headers, protocol: settings.protocol }, (c) => {
          if (Date.now() - lastDropLog < DROP_LOG_INTERVAL_MS) return;
          lastDropLog = Date.now();
          console.warn(`tracing: ${c.dropped} span(s) dropped so far (${c.failedExports} failed export(s))`);
        })
      : null;
  const resource = resourceFromAttributes({
    "service.name": settings.serviceName,
    "service.version": EDGESWARM_VERSION,
  });
  const scope = { name: "edgeswarm-worker", version: EDGESWARM_VERSION };
  const provider = new TracerProvider({
    resource,
    // With nowhere to send spans, none is recorded; ids are still made, so context still flows.
    sampler: outbox ? samplerFor(settings.sampler, sdk) : new AlwaysOffSampler(),
    spanLimits: { attributeValueLengthLimit: TRACE_CONTENT_CHARS, attributeCountLimit: 64, eventCountLimit: 128 },
    spanProcessors: outbox ? [outbox] : [],
  });
  let scheduled = false;
  const flush = () => outbox?.flush() ?? Promise.resolve();
  const made: Telemetry = {
    tracer: provider.getTracer(scope.name, scope.version),
    outbox,
    content: env.EDGESWARM_TRACE_CONTENT === "1",
    flush,
    flushSoon: (waitUntil) => {
      if (!outbox || scheduled) return;
      scheduled = true;
      waitUntil(
        new Promise((done) => setTimeout(done, FLUSH_DELAY_MS)).then(() => {
          scheduled = false;
          return flush();
        }),
      );
    },
    record: (span) => {
      if (outbox && span.sampled) outbox.add([readableSpan(span, resource, scope)]);
    },
  };
  current = { key, telemetry: made };
  return made;
}

/**
 * The context a carrier describes (a caller's headers, an RPC argument); the
 * root context when it has none or an invalid one, so a new trace starts.
 */
export function extract(carrier: { traceparent?: string | null; tracestate?: string | null } | undefined): Context {
  const traceparent = carrier?.traceparent ?? undefined;
  // A tracestate past the spec's bound is dropped; the traceparent still holds.
  const full = TraceCarrier.safeParse({ traceparent, tracestate: carrier?.tracestate ?? undefined });
  const parsed = full.success ? full : TraceCarrier.safeParse({ traceparent });
  if (!parsed.success) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, parsed.data, defaultTextMapGetter);
}

/** The carrier for a span, to hand to the next part. */
export function carrierOf(span: Span): TraceCarrier {
  return inject(trace.setSpan(ROOT_CONTEXT, span)) ?? { traceparent: "" };
}

/** The carrier for a context's span; undefined when it has none. */
export function inject(context: Context): TraceCarrier | undefined {
  const out: Record<string, string> = {};
  propagator.inject(context, out, defaultTextMapSetter);
  if (!out.traceparent) return undefined;
  return { traceparent: out.traceparent, ...(out.tracestate ? { tracestate: out.tracestate } : {}) };
}

/** The trace id of a context's span ("" when it has none). */
export function traceIdOf(context: Context): string {
  return trace.getSpanContext(context)?.traceId ?? "";
}

/** Text for a span attribute when content tracing is on; undefined otherwise. */
export function content(t: Telemetry, text: string): string | undefined {
  if (!t.content) return undefined;
  return text.length <= TRACE_CONTENT_CHARS ? text : `${text.slice(0, TRACE_CONTENT_CHARS - 1)}…`;
}
