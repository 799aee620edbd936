import type { PoolDO } from "./pool/pool-do.ts";

/** The Worker's bindings, vars and secrets (see wrangler.toml and the README). */
export interface Env {
  POOL: DurableObjectNamespace<PoolDO>;
  /** JSON: `{"<api key>": {"tenant": "acme", "pools": ["default"]}}`. A secret. */
  EDGESWARM_API_KEYS?: string;
  /** JSON: `{"<agent token>": "<pool>"}`. A secret. */
  EDGESWARM_AGENT_TOKENS?: string;
  /** For the model roles (the runs API); passed through by `npm start`. */
  ANTHROPIC_API_KEY?: string;
  OPENAI_API_KEY?: string;
  ANTHROPIC_BASE_URL?: string;
  OPENAI_BASE_URL?: string;
}
