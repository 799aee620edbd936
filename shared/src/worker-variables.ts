import { OTEL_VARIABLES } from "./otel.ts";

/**
 * Every variable the Worker reads from its environment (the table in
 * docs/configuration.md). The Worker parses them; `npm start` passes each one
 * it finds set on to the local Worker, so both read the same list.
 */
export const WORKER_VARIABLES = [
  "EDGESWARM_API_KEYS",
  "EDGESWARM_AGENT_TOKENS",
  "EDGESWARM_POOL_LIMITS",
  "EDGESWARM_TENANT_LIMITS",
  "EDGESWARM_WEBHOOK_SECRETS",
  "EDGESWARM_WEBHOOK_RETRY_BASE_MS",
  "EDGESWARM_QUEUE_MAX",
  "EDGESWARM_RUN_RETENTION_DAYS",
  "EDGESWARM_TRACE_CONTENT",
  ...OTEL_VARIABLES,
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
] as const;
export type WorkerVariable = (typeof WORKER_VARIABLES)[number];
