import type { Context as TraceContext } from "@opentelemetry/api";
import type { Tenant } from "./auth.ts";
import type { Config } from "./config.ts";
import type { Env } from "./env.ts";

/** Hono's environment for this app: the bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env;
  /** `trace`: the request's server span, as the parent of what it causes (telemetry/http.ts). */
  Variables: { tenant: Tenant; config: Config; trace: TraceContext };
}
