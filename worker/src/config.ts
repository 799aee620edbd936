import { LIMIT_NAMES, LIMITS, type LimitName, Name, WORKER_VARIABLES } from "@edgeswarm/shared";
import { z } from "zod";
import type { Env } from "./env.ts";
import { EdgeswarmError } from "./errors.ts";

/**
 * The Worker's configuration, parsed once per isolate and per set of values
 * from its variables and secrets (see docs/configuration.md). A
 * problem is reported as `misconfigured`, naming the variable and what is
 * wrong with it, and never its contents: several of these variables are
 * secrets, and some are keyed by them.
 */
export interface Config {
  /** API keys (by SHA-256 digest) and what each admits. */
  apiKeys: readonly Keyed<KeyGrant>[];
  /** Agent tokens (by SHA-256 digest) and the pool each admits to. */
  agentTokens: readonly Keyed<TokenGrant>[];
  /** The lower maxima an operator set for a pool (none: the global maxima apply). */
  poolMaxima(pool: string): PoolMaxima;
  /** A tenant's quotas: its own entry, else the `*` entry, else the defaults, field by field. */
  tenantLimits(tenant: string): TenantLimits;
  /** The secret that signs a tenant's webhooks, or null. */
  webhookSecret(tenant: string): string | null;
  webhookRetryBaseMs: number;
  /** Most executions one pool's queue holds. */
  queueMax: number;
  /** How long a run is kept after it ends. */
  runRetentionMs: number;
  /** Keys and base URLs of the model providers (absent: not configured). */
  models: { anthropic: ProviderAccess; openai: ProviderAccess };
}

export interface ProviderAccess {
  apiKey: string | undefined;
  baseUrl: string | undefined;
}

/** A secret, by its digest, with what it grants. */
export interface Keyed<T> {
  digest: ArrayBuffer;
  grant: T;
}

export interface KeyGrant {
  tenant: string;
  /** The pools the key may use; the first is its default. */
  pools: string[];
}

export interface TokenGrant {
  pool: string;
  /** An agent's advertised capacity is cut to this. */
  maxCapacity: number;
  /** A stable, non-secret name for the token (a prefix of its digest): agent ids belong to it. */
  tokenId: string;
}

/** Per-pool maxima, lower than the global ones (see pool-limits.ts). */
export type PoolMaxima = Partial<Record<LimitName, number>>;

/** What one tenant may hold at once. Executions are counted per pool. */
export interface TenantLimits {
  /** Executions running at once in one pool; more wait in the queue. */
  concurrentExecutions: number;
  /** Executions waiting in one pool's queue; more are refused. */
  queuedExecutions: number;
  /** Runs not yet ended. */
  activeRuns: number;
  /** Model names, or prefixes ending in `*`, that runs may use with the operator's keys. */
  models: readonly string[];
}

export const TENANT_LIMIT_DEFAULTS: TenantLimits = {
  concurrentExecutions: 64,
  queuedExecutions: 1_000,
  activeRuns: 100,
  models: ["*"],
};

export const AGENT_MAX_CAPACITY_DEFAULT = 64;
export const QUEUE_MAX_DEFAULT = 10_000;
export const RUN_RETENTION_DAYS_DEFAULT = 30;
export const WEBHOOK_RETRY_BASE_DEFAULT_MS = 5_000;

const DAY_MS = 86_400_000;
/** More entries than this in one variable is a mistake, not a configuration. */
const MAX_ENTRIES = 10_000;

const KeyValue = z.object({ tenant: Name, pools: z.array(Name).min(1).max(64) }).strict();
const TokenValue = z.union([
  Name,
  z.object({ pool: Name, maxCapacity: z.number().int().min(1).max(1024).optional() }).strict(),
]);
const MaximaValue = z
  .object(
    Object.fromEntries(
      LIMIT_NAMES.map((name) => {
        const { min, max, int } = LIMITS[name];
        const n = int ? z.number().int() : z.number();
        return [name, n.min(min).max(max).optional()];
      }),
    ) as Record<LimitName, z.ZodOptional<z.ZodNumber>>,
  )
  .strict();
const LimitsValue = z
  .object({
    concurrentExecutions: z.number().int().min(1).max(10_000).optional(),
    queuedExecutions: z.number().int().min(0).max(100_000).optional(),
    activeRuns: z.number().int().min(1).max(100_000).optional(),
    models: z
      .array(z.string().min(1).max(200))
      .max(256)
      .refine((list) => list.every((m) => !m.slice(0, -1).includes("*")), {
        message: "a model pattern may have '*' only at its end",
      })
      .optional(),
  })
  .strict();
const SecretValue = z
  .string()
  .min(16, { message: "webhook secrets must have at least 16 characters" })
  .max(512, { message: "webhook secrets must have at most 512 characters" });

/** Collects what is wrong, variable by variable, in words that never quote a value. */
class Problems {
  readonly list: string[] = [];

  add(variable: string, problem: string): void {
    this.list.push(`${variable}: ${problem}`);
  }

  /** Each issue as "path: message", paths relative to the entry (never the entry's key). */
  addIssues(variable: string, where: string, error: z.ZodError): void {
    const text = error.issues
      .map((issue) => `${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`)
      .join(", ");
    this.add(variable, `${where}: ${text}`);
  }
}

function jsonObject(variable: string, raw: string | undefined, problems: Problems): [string, unknown][] {
  if (raw === undefined || raw.trim() === "") return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // Not the parser's message: it quotes the text around the mistake.
    problems.add(variable, "is not valid JSON");
    return [];
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    problems.add(variable, "must be a JSON object");
    return [];
  }
  const entries = Object.entries(json);
  if (entries.length > MAX_ENTRIES) {
    problems.add(variable, `has ${entries.length} entries, more than ${MAX_ENTRIES}`);
    return [];
  }
  return entries;
}

/** An object keyed by secrets: problems name the entry by its position, never by its key. */
async function secretKeyed<T, V>(
  variable: string,
  raw: string | undefined,
  noun: string,
  schema: z.ZodType<V>,
  grant: (value: V, digest: ArrayBuffer) => T,
  problems: Problems,
): Promise<Keyed<T>[]> {
  const out: Keyed<T>[] = [];
  const entries = jsonObject(variable, raw, problems);
  for (const [index, [secret, value]] of entries.entries()) {
    const where = `entry ${index + 1} of ${entries.length}`;
    if (secret.length < 8) {
      problems.add(variable, `${where}: the ${noun} has fewer than 8 characters`);
      continue;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      problems.addIssues(variable, where, parsed.error);
      continue;
    }
    const digest = await sha256(secret);
    out.push({ digest, grant: grant(parsed.data, digest) });
  }
  return out;
}

/** An object keyed by names (pools, tenants), which are not secret. */
function nameKeyed<V>(
  variable: string,
  raw: string | undefined,
  schema: z.ZodType<V>,
  problems: Problems,
  allowStar = false,
): Map<string, V> {
  const out = new Map<string, V>();
  const entries = jsonObject(variable, raw, problems);
  for (const [index, [key, value]] of entries.entries()) {
    if (!(allowStar && key === "*") && !Name.safeParse(key).success) {
      // Not quoted: a key that is no name may be anything, a secret pasted in the wrong place included.
      problems.add(
        variable,
        `entry ${index + 1} of ${entries.length}: the key is not a valid name (letters, digits, '.', '_' or '-')`,
      );
      continue;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) problems.addIssues(variable, `'${key}'`, parsed.error);
    else out.set(key, parsed.data);
  }
  return out;
}

function wholeNumber(
  variable: string,
  raw: string | undefined,
  range: { min: number; max: number; fallback: number },
  problems: Problems,
): number {
  if (raw === undefined || raw.trim() === "") return range.fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    problems.add(variable, `must be a whole number from ${range.min} to ${range.max}`);
    return range.fallback;
  }
  return n;
}

/** A number of days, fractions allowed (0.5 is 12 hours). */
function positiveNumber(
  variable: string,
  raw: string | undefined,
  range: { max: number; fallback: number },
  problems: Problems,
): number {
  if (raw === undefined || raw.trim() === "") return range.fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > range.max) {
    problems.add(variable, `must be a number above 0 and at most ${range.max}`);
    return range.fallback;
  }
  return n;
}

export async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

function hex(digest: ArrayBuffer, bytes: number): string {
  return Array.from(new Uint8Array(digest).slice(0, bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The variables config.ts reads; the cache key is their values. */
const VARIABLES = WORKER_VARIABLES satisfies readonly (keyof Env)[];

async function parse(env: Env): Promise<Config> {
  const problems = new Problems();
  const apiKeys = await secretKeyed(
    "EDGESWARM_API_KEYS",
    env.EDGESWARM_API_KEYS,
    "API key",
    KeyValue,
    (v) => ({ tenant: v.tenant, pools: v.pools }),
    problems,
  );
  const agentTokens = await secretKeyed(
    "EDGESWARM_AGENT_TOKENS",
    env.EDGESWARM_AGENT_TOKENS,
    "agent token",
    TokenValue,
    (v, digest) => ({
      pool: typeof v === "string" ? v : v.pool,
      maxCapacity: (typeof v === "string" ? undefined : v.maxCapacity) ?? AGENT_MAX_CAPACITY_DEFAULT,
      tokenId: hex(digest, 8),
    }),
    problems,
  );
  const maxima = nameKeyed("EDGESWARM_POOL_LIMITS", env.EDGESWARM_POOL_LIMITS, MaximaValue, problems);
  const limits = nameKeyed("EDGESWARM_TENANT_LIMITS", env.EDGESWARM_TENANT_LIMITS, LimitsValue, problems, true);
  const secrets = nameKeyed("EDGESWARM_WEBHOOK_SECRETS", env.EDGESWARM_WEBHOOK_SECRETS, SecretValue, problems);
  const webhookRetryBaseMs = wholeNumber(
    "EDGESWARM_WEBHOOK_RETRY_BASE_MS",
    env.EDGESWARM_WEBHOOK_RETRY_BASE_MS,
    { min: 10, max: 600_000, fallback: WEBHOOK_RETRY_BASE_DEFAULT_MS },
    problems,
  );
  const queueMax = wholeNumber(
    "EDGESWARM_QUEUE_MAX",
    env.EDGESWARM_QUEUE_MAX,
    { min: 1, max: 1_000_000, fallback: QUEUE_MAX_DEFAULT },
    problems,
  );
  const retentionDays = positiveNumber(
    "EDGESWARM_RUN_RETENTION_DAYS",
    env.EDGESWARM_RUN_RETENTION_DAYS,
    { max: 3_650, fallback: RUN_RETENTION_DAYS_DEFAULT },
    problems,
  );
  for (const variable of ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"] as const) {
    const url = env[variable];
    if (url && !/^https?:\/\/[^\s]+$/.test(url)) problems.add(variable, "must be an http(s) URL");
  }
  if (problems.list.length > 0) {
    throw new EdgeswarmError("misconfigured", `the Worker is misconfigured: ${problems.list.join("; ")}`, {
      retryAfterS: 30,
    });
  }

  const base = { ...TENANT_LIMIT_DEFAULTS, ...limits.get("*") };
  return {
    apiKeys,
    agentTokens,
    poolMaxima: (pool) => (maxima.get(pool) ?? {}) as PoolMaxima,
    tenantLimits: (tenant) => ({ ...base, ...limits.get(tenant) }),
    webhookSecret: (tenant) => secrets.get(tenant) ?? null,
    webhookRetryBaseMs,
    queueMax,
    runRetentionMs: retentionDays * DAY_MS,
    models: {
      anthropic: { apiKey: env.ANTHROPIC_API_KEY || undefined, baseUrl: env.ANTHROPIC_BASE_URL || undefined },
      openai: { apiKey: env.OPENAI_API_KEY || undefined, baseUrl: env.OPENAI_BASE_URL || undefined },
    },
  };
}

// Per isolate, keyed by the variables' values: a changed secret takes effect on
// the next request without a flush. Bounded: old values age out.
const cache = new Map<string, Promise<Config>>();
const CACHE_ENTRIES = 4;

/**
 * The configuration for `env`; throws `misconfigured` (naming each variable
 * and its problem) when a variable is invalid.
 */
export function loadConfig(env: Env): Promise<Config> {
  const key = JSON.stringify(VARIABLES.map((name) => env[name] ?? null));
  let config = cache.get(key);
  if (!config) {
    config = parse(env);
    config.catch((err: unknown) => {
      cache.delete(key);
      console.error(err instanceof Error ? err.message : String(err));
    });
    cache.set(key, config);
    while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  }
  return config;
}
