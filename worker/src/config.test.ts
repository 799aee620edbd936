import { describe, expect, it } from "vitest";
import { AGENT_MAX_CAPACITY_DEFAULT, loadConfig, TENANT_LIMIT_DEFAULTS } from "./config.ts";
import type { Env } from "./env.ts";
import { EdgeswarmError } from "./errors.ts";

const env = (vars: Partial<Env>) => vars as Env;

async function problem(vars: Partial<Env>): Promise<string> {
  const err = await loadConfig(env(vars)).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EdgeswarmError);
  expect((err as EdgeswarmError).code).toBe("misconfigured");
  return (err as EdgeswarmError).message;
}

describe("the Worker's configuration", () => {
  it("names the variable and the entry of a bad API key, never the key itself", async () => {
    const secret = "sk-live-this-must-never-appear";
    const message = await problem({
      EDGESWARM_API_KEYS: JSON.stringify({
        "ok-key-0001": { tenant: "acme", pools: ["default"] },
        [secret]: { tenant: "not a name!", pools: ["default"] },
      }),
    });
    expect(message).toContain("EDGESWARM_API_KEYS: entry 2 of 2: tenant:");
    expect(message).not.toContain(secret);
    expect(message).not.toContain("sk-live");
  });

  it("does not quote the text of invalid JSON, nor a short key, nor a key in the wrong variable", async () => {
    const broken = await problem({ EDGESWARM_AGENT_TOKENS: '{"tok-secret-123": "pool-a",}' });
    expect(broken).toBe("the Worker is misconfigured: EDGESWARM_AGENT_TOKENS: is not valid JSON");
    const short = await problem({ EDGESWARM_API_KEYS: JSON.stringify({ "sk-1": { tenant: "a", pools: ["p"] } }) });
    expect(short).toContain("the API key has fewer than 8 characters");
    expect(short).not.toContain("sk-1");
    const misplaced = await problem({ EDGESWARM_TENANT_LIMITS: JSON.stringify({ "sk live key!": { activeRuns: 2 } }) });
    expect(misplaced).toContain("entry 1 of 1: the key is not a valid name");
    expect(misplaced).not.toContain("sk live");
  });

  it("reports every broken variable at once, and fractional maxima where whole numbers are due", async () => {
    const message = await problem({
      EDGESWARM_POOL_LIMITS: JSON.stringify({ "pool-a": { memoryMb: 128.5 } }),
      EDGESWARM_QUEUE_MAX: "lots",
      EDGESWARM_WEBHOOK_RETRY_BASE_MS: "1.5",
    });
    expect(message).toContain("EDGESWARM_POOL_LIMITS: 'pool-a': memoryMb:");
    expect(message).toContain("EDGESWARM_QUEUE_MAX: must be a whole number");
    expect(message).toContain("EDGESWARM_WEBHOOK_RETRY_BASE_MS: must be a whole number from 10 to 600000");
  });

  it("fills tenant quotas from the tenant's entry, then '*', then the defaults", async () => {
    const config = await loadConfig(
      env({
        EDGESWARM_TENANT_LIMITS: JSON.stringify({
          "*": { activeRuns: 5 },
          acme: { concurrentExecutions: 2, models: ["claude-*"] },
        }),
      }),
    );
    expect(config.tenantLimits("acme")).toEqual({
      ...TENANT_LIMIT_DEFAULTS,
      activeRuns: 5,
      concurrentExecutions: 2,
      models: ["claude-*"],
    });
    expect(config.tenantLimits("other")).toEqual({ ...TENANT_LIMIT_DEFAULTS, activeRuns: 5 });
  });

  it("reads agent tokens in both forms, each with a stable id that is not the token", async () => {
    const config = await loadConfig(
      env({
        EDGESWARM_AGENT_TOKENS: JSON.stringify({
          "token-plain-0001": "pool-a",
          "token-capped-0002": { pool: "pool-b", maxCapacity: 8 },
        }),
      }),
    );
    const [plain, capped] = config.agentTokens.map((t) => t.grant);
    expect(plain).toMatchObject({ pool: "pool-a", maxCapacity: AGENT_MAX_CAPACITY_DEFAULT });
    expect(capped).toMatchObject({ pool: "pool-b", maxCapacity: 8 });
    expect(plain?.tokenId).toMatch(/^[0-9a-f]{16}$/);
    expect(plain?.tokenId).not.toBe(capped?.tokenId);
  });

  it("takes the defaults when nothing is set", async () => {
    const config = await loadConfig(env({}));
    expect(config.apiKeys).toEqual([]);
    expect(config.queueMax).toBe(10_000);
    expect(config.webhookRetryBaseMs).toBe(5_000);
    expect(config.runRetentionMs).toBe(30 * 86_400_000);
    expect(config.poolMaxima("any")).toEqual({});
  });
});
