import { Name } from "@edgeswarm/shared";
import { z } from "zod";
import { ApiError } from "./http/api-error.ts";

/** Who a request is from: the tenant its API key belongs to and the pools it may use. */
export interface Tenant {
  id: string;
  /** The pools this tenant's key may run on; the first is its default. */
  pools: string[];
}

const ApiKeys = z.record(
  z.string().min(8, { message: "API keys must have at least 8 characters" }),
  z.object({ tenant: Name, pools: z.array(Name).min(1) }).strict(),
);
const AgentTokens = z.record(z.string().min(8, { message: "agent tokens must have at least 8 characters" }), Name);

interface Entry<T> {
  digest: ArrayBuffer;
  value: T;
}

// Parsing and hashing the configuration once per isolate, keyed by its text, so
// a changed secret takes effect on the next isolate without any cache flush.
const cache = new Map<string, Promise<Entry<unknown>[]>>();

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

function loadEntries<T>(raw: string | undefined, schema: z.ZodType<Record<string, T>>, name: string) {
  const text = raw ?? "{}";
  let entries = cache.get(text) as Promise<Entry<T>[]> | undefined;
  if (!entries) {
    entries = (async () => {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new ApiError(503, "misconfigured", `${name} is not valid JSON`);
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new ApiError(503, "misconfigured", `${name} is invalid: ${z.prettifyError(parsed.error)}`);
      }
      return Promise.all(
        Object.entries(parsed.data).map(async ([secret, value]) => ({ digest: await sha256(secret), value })),
      );
    })();
    entries.catch(() => cache.delete(text));
    cache.set(text, entries);
  }
  return entries;
}

/**
 * Finds the entry whose secret equals `presented`, comparing SHA-256 digests in
 * constant time and visiting every entry, so neither the length nor the position
 * of a match leaks through timing.
 */
async function lookup<T>(entries: Entry<T>[], presented: string): Promise<T | undefined> {
  const digest = await sha256(presented);
  let found: T | undefined;
  for (const entry of entries) {
    if (crypto.subtle.timingSafeEqual(entry.digest, digest)) found = entry.value;
  }
  return found;
}

/** The bearer token of an `Authorization` header, or undefined. */
export function bearer(header: string | undefined | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** The tenant an API key belongs to; throws 401 `unauthorized` for none or a wrong one. */
export async function authenticateTenant(
  header: string | undefined | null,
  apiKeys: string | undefined,
): Promise<Tenant> {
  const key = bearer(header);
  if (!key) throw new ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer <key>'");
  const entry = await lookup(await loadEntries(apiKeys, ApiKeys, "EDGESWARM_API_KEYS"), key);
  if (!entry) throw new ApiError(401, "unauthorized", "invalid API key");
  return { id: entry.tenant, pools: entry.pools };
}

/** The pool an agent token admits to; throws 401 `unauthorized` for none or a wrong one. */
export async function authenticateAgent(
  header: string | undefined | null,
  tokens: string | undefined,
): Promise<string> {
  const token = bearer(header);
  if (!token) throw new ApiError(401, "unauthorized", "missing agent token: send 'Authorization: Bearer <token>'");
  const pool = await lookup(await loadEntries(tokens, AgentTokens, "EDGESWARM_AGENT_TOKENS"), token);
  if (!pool) throw new ApiError(401, "unauthorized", "invalid agent token");
  return pool;
}
