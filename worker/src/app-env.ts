import type { Tenant } from "./auth.ts";
import type { Config } from "./config.ts";
import type { Env } from "./env.ts";

/** Hono's environment for this app: the bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env;
  Variables: { tenant: Tenant; config: Config };
}
