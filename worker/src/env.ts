import type { PoolDO } from "./pool/pool-do.ts";
import type { RunIndexDO } from "./run/index-do.ts";
import type { RunDO } from "./run/run-do.ts";
import type { StatsDO } from "./stats/stats-do.ts";

/**
 * The Worker's bindings, vars and secrets (see wrangler.toml and the README).
 * The variables are read only by config.ts, which parses them once.
 */
export interface Env {
  POOL: DurableObjectNamespace<PoolDO>;
  RUN: DurableObjectNamespace<RunDO>;
  RUN_INDEX: DurableObjectNamespace<RunIndexDO>;
  /** One per tenant: its per-minute statistics (GET /v1/stats). */
  STATS: DurableObjectNamespace<StatsDO>;
  /** JSON: `{"<api key>": {"tenant": "acme", "pools": ["default"]}}`. A secret. */
  EDGESWARM_API_KEYS?: string;
  /** JSON: `{"<agent token>": "<pool>"}` or `{"<agent token>": {"pool": "<pool>", "maxCapacity": 16}}`. A secret. */
  EDGESWARM_AGENT_TOKENS?: string;
  /** For the model roles (the runs API); passed through by `npm start`. */
  ANTHROPIC_API_KEY?: string;
  OPENAI_API_KEY?: string;
  ANTHROPIC_BASE_URL?: string;
  OPENAI_BASE_URL?: string;
  /** JSON: `{"<pool>": {"memoryMb": 512, ...}}`, lower maxima per pool (see pool-limits.ts). */
  EDGESWARM_POOL_LIMITS?: string;
  /** JSON: `{"<tenant>" | "*": {"concurrentExecutions": 8, ...}}`, quotas per tenant. */
  EDGESWARM_TENANT_LIMITS?: string;
  /** JSON: `{"<tenant>": "<secret>"}`, the key that signs each tenant's webhooks. A secret. */
  EDGESWARM_WEBHOOK_SECRETS?: string;
  /** The first webhook retry's delay (ms; default 5000), doubling after each failed attempt. */
  EDGESWARM_WEBHOOK_RETRY_BASE_MS?: string;
  /** Most executions waiting in one pool's queue (default 10000). */
  EDGESWARM_QUEUE_MAX?: string;
  /** Days a run is kept after it ends (default 30). */
  EDGESWARM_RUN_RETENTION_DAYS?: string;
  /** "1": prompts and program output go into spans, truncated (see telemetry/). Off by default. */
  EDGESWARM_TRACE_CONTENT?: string;
  /** The OpenTelemetry SDK's standard variables (see docs/observability.md); read by telemetry/ only. */
  OTEL_SERVICE_NAME?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  /** Carries the collector's credentials: a secret. */
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  OTEL_EXPORTER_OTLP_TRACES_HEADERS?: string;
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;
  OTEL_TRACES_SAMPLER?: string;
  OTEL_TRACES_SAMPLER_ARG?: string;
}
