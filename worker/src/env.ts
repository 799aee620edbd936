import type { PoolDO } from "./pool/pool-do.ts";
import type { RunIndexDO } from "./run/index-do.ts";
import type { RunDO } from "./run/run-do.ts";

/** The Worker's bindings, vars and secrets (see wrangler.toml and the README). */
export interface Env {
  POOL: DurableObjectNamespace<PoolDO>;
  RUN: DurableObjectNamespace<RunDO>;
  RUN_INDEX: DurableObjectNamespace<RunIndexDO>;
  /** JSON: `{"<api key>": {"tenant": "acme", "pools": ["default"]}}`. A secret. */
  EDGESWARM_API_KEYS?: string;
  /** JSON: `{"<agent token>": "<pool>"}`. A secret. */
  EDGESWARM_AGENT_TOKENS?: string;
  /** For the model roles (the runs API); passed through by `npm start`. */
  ANTHROPIC_API_KEY?: string;
  OPENAI_API_KEY?: string;
  ANTHROPIC_BASE_URL?: string;
  OPENAI_BASE_URL?: string;
  /** JSON: `{"<pool>": {"memoryMb": 512, ...}}`, lower maxima per pool (see pool-limits.ts). */
  EDGESWARM_POOL_LIMITS?: string;
  /** How long a run waits for a free sandbox before failing no_sandbox_available (ms; default 60000). */
  EDGESWARM_NO_SANDBOX_WAIT_MS?: string;
  /** JSON: `{"<tenant>": "<secret>"}`, the key that signs each tenant's webhooks. A secret. */
  EDGESWARM_WEBHOOK_SECRETS?: string;
  /** The first webhook retry's delay (ms; default 5000), doubling after each failed attempt. */
  EDGESWARM_WEBHOOK_RETRY_BASE_MS?: string;
}
