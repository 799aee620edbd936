import { LIMIT_NAMES, LIMITS, type Limits, type LimitsInput } from "@edgeswarm/shared";
import type { PoolMaxima } from "./config.ts";
import { EdgeswarmError } from "./errors.ts";

/**
 * The limits an execution in `pool` gets: the request's values, else the
 * defaults, each capped by the pool's maximum (`EDGESWARM_POOL_LIMITS`, see
 * config.ts). A requested value above that maximum is refused with
 * `invalid_request` naming the field, never lowered.
 */
export function limitsForPool(input: LimitsInput, maxima: PoolMaxima, pool: string, path = "limits"): Limits {
  const issues: { path: string; message: string }[] = [];
  const limits = {} as Limits;
  for (const name of LIMIT_NAMES) {
    const max = maxima[name] ?? LIMITS[name].max;
    const asked = input[name];
    if (asked !== undefined && asked > max) {
      issues.push({ path: `${path}.${name}`, message: `${name} must be at most ${max} in pool '${pool}'` });
    }
    limits[name] = asked ?? Math.min(LIMITS[name].default, max);
  }
  if (issues.length > 0) {
    throw new EdgeswarmError("invalid_request", issues.map((i) => i.message).join("; "), { details: issues });
  }
  return limits;
}
