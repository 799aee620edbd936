import { EDGESWARM_VERSION, parseOtelEnv, samplerFor, TraceCarrier } from "@edgeswarm/shared";
import { type Context, defaultTextMapGetter, ROOT_CONTEXT, type Tracer, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import * as sdk from "@opentelemetry/sdk-trace";
import { AlwaysOffSampler, BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

/** Most ended spans waiting for export; past it the batch processor drops new ones. */
const SPAN_QUEUE_MAX = 2_048;
const EXPORT_TIMEOUT_MS = 5_000;

/** The agent's tracing, from the standard OTEL_* variables (docs/observability.md). */
export interface AgentTelemetry {
  readonly tracer: Tracer;
  /** Where spans go, for the start-up line; null when export is off. */
  readonly target: string | null;
  /** Sends what is left; call on shutdown. */
  shutdown(): Promise<void>;
}

/**
 * Builds the agent's tracer. With no endpoint, spans are still made (so
 * their ids reach the logs) but none is recorded or sent. A mistake in a
 * variable turns export off and is returned to be logged; it never stops
 * the agent.
 */
export function startTelemetry(
  env: NodeJS.ProcessEnv,
  agentId: string,
): { telemetry: AgentTelemetry; problems: string[] } {
  const { settings, problems } = parseOtelEnv(env, "edgeswarm-agent");
  const exporting = settings.tracesUrl !== null && problems.length === 0;
  const options = { url: settings.tracesUrl ?? "", headers: settings.headers, timeoutMillis: EXPORT_TIMEOUT_MS };
  const processors = exporting
    ? [
        new BatchSpanProcessor({
          exporter: settings.protocol === "http/json" ? new JsonExporter(options) : new ProtobufExporter(options),
          maxQueueSize: SPAN_QUEUE_MAX,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 500,
          exportTimeoutMillis: EXPORT_TIMEOUT_MS,
        }),
      ]
    : [];
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": settings.serviceName,
      "service.version": EDGESWARM_VERSION,
      "service.instance.id": agentId,
    }),
    sampler: exporting ? samplerFor(settings.sampler, sdk) : new AlwaysOffSampler(),
    spanLimits: { attributeValueLengthLimit: 2_048, attributeCountLimit: 64, eventCountLimit: 128 },
    spanProcessors: processors,
  });
  return {
    telemetry: {
      tracer: provider.getTracer("edgeswarm-agent", EDGESWARM_VERSION),
      target: exporting ? settings.tracesUrl : null,
      shutdown: () => provider.shutdown().catch(() => {}),
    },
    problems,
  };
}

const propagator = new W3CTraceContextPropagator();

/** The Worker's span an exec.start names, as a parent context; the root context when it names none. */
export function parentOf(carrier: TraceCarrier | undefined): Context {
  if (!carrier || !TraceCarrier.safeParse(carrier).success) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

/** A tracer that records nothing, for runtimes and executors made without one (tests, benchmarks). */
export const NO_TRACER: Tracer = trace.getTracer("edgeswarm-agent-untraced");
