import type { Config, Keyed, TenantLimits, TokenGrant } from "./config.ts";
import { sha256 } from "./config.ts";
import { EdgeswarmError } from "./errors.ts";

/** Who a request is from: the tenant its API key belongs to, the pools it may use, and its quotas. */
export interface Tenant {
  id: string;
  /** The pools this tenant's key may run on; the first is its default. */
  pools: string[];
  limits: TenantLimits;
}

/**
 * Finds the entry whose secret equals `presented`, comparing SHA-256 digests in
 * constant time and visiting every entry, so neither the length nor the position
 * of a match leaks through timing.
 */
async function lookup<T>(entries: readonly Keyed<T>[], presented: string): Promise<T | undefined> {
  const digest = await sha256(presented);
  let found: T | undefined;
  for (const entry of entries) {
    if (crypto.subtle.timingSafeEqual(entry.digest, digest)) found = entry.grant;
  }
  return found;
}

/** The bearer token of an `Authorization` header, or undefined. */
export function bearer(header: string | undefined | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** The tenant an API key belongs to; throws `unauthorized` for none or a wrong one. */
export async function authenticateTenant(header: string | undefined | null, config: Config): Promise<Tenant> {
  const key = bearer(header);
  if (!key) throw new EdgeswarmError("unauthorized", "missing API key: send 'Authorization: Bearer <key>'");
  const grant = await lookup(config.apiKeys, key);
  if (!grant) throw new EdgeswarmError("unauthorized", "invalid API key");
  return { id: grant.tenant, pools: grant.pools, limits: config.tenantLimits(grant.tenant) };
}

/** What an agent token admits to; throws `unauthorized` for none or a wrong one. */
export async function authenticateAgent(header: string | undefined | null, config: Config): Promise<TokenGrant> {
  const token = bearer(header);
  if (!token) {
    throw new EdgeswarmError("unauthorized", "missing agent token: send 'Authorization: Bearer <token>'");
  }
  const grant = await lookup(config.agentTokens, token);
  if (!grant) throw new EdgeswarmError("unauthorized", "invalid agent token");
  return grant;
}
