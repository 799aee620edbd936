import { LIMIT_NAMES, LIMITS, type LimitName, type Limits, type LimitsInput, Name } from "@edgeswarm/shared";
import { z } from "zod";
import { ApiError } from "./http/api-error.ts";

/**
 * Per-pool maxima, from `EDGESWARM_POOL_LIMITS`: `{"<pool>": {"memoryMb": 512}}`.
 * A pool's operator may lower any limit's maximum below the global one; the
 * default then never exceeds it. Requests above a pool's maximum get 400.
 */
export type PoolMaxima = Partial<Record<LimitName, number>>;

const Maxima = z.record(
  Name,
  z
    .object(
      Object.fromEntries(
        LIMIT_NAMES.map((name) => {
          const { min, max } = LIMITS[name];
          return [name, z.number().min(min).max(max).optional()];
        }),
      ) as Record<LimitName, z.ZodOptional<z.ZodNumber>>,
    )
    .strict(),
);

// Parsed once per isolate, keyed by the variable's text.
const cache = new Map<string, Record<string, PoolMaxima>>();

/** The maxima configured for `pool` (none: the global maxima apply). */
export function poolMaxima(raw: string | undefined, pool: string): PoolMaxima {
  const text = raw ?? "{}";
  let all = cache.get(text);
  if (!all) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(503, "misconfigured", "EDGESWARM_POOL_LIMITS is not valid JSON");
    }
    const parsed = Maxima.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(503, "misconfigured", `EDGESWARM_POOL_LIMITS is invalid: ${z.prettifyError(parsed.error)}`);
    }
    all = parsed.data as Record<string, PoolMaxima>;
    cache.set(text, all);
  }
  return all[pool] ?? {};
}

/**
 * The limits an execution in `pool` gets: the request's values, else the
 * defaults, each capped by the pool's maximum. A requested value above that
 * maximum is refused with 400 naming the field, never lowered.
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
    throw new ApiError(400, "invalid_request", issues.map((i) => i.message).join("; "), { details: issues });
  }
  return limits;
}
