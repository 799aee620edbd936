import { AgentList, type AgentSummary } from "@edgeswarm/shared";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { authenticateAgent } from "../auth.ts";
import { POOL_HEADER, POOL_PATHS, poolUrl } from "../pool/internal.ts";
import { ApiError } from "./api-error.ts";

/** `GET /v1/agents`: the agents connected to the tenant's pools. */
export const agents = new Hono<AppEnv>().get("/", async (c) => {
  const tenant = c.get("tenant");
  const lists = await Promise.all(
    tenant.pools.map(async (pool) => {
      const answer = await c.env.POOL.getByName(pool).fetch(poolUrl(POOL_PATHS.agents));
      return AgentList.parse(await answer.json()).agents;
    }),
  );
  const all: AgentSummary[] = lists.flat();
  return c.json({ agents: all } satisfies AgentList);
});

/**
 * `GET /v1/agents/connect`: the WebSocket sandbox agents dial. Authenticated by
 * an agent token (which names the pool), not by an API key.
 */
export const agentConnect = new Hono<AppEnv>().get("/", async (c) => {
  const pool = await authenticateAgent(c.req.header("Authorization"), c.env.EDGESWARM_AGENT_TOKENS);
  const asked = c.req.query("pool");
  if (asked && asked !== pool) {
    throw new ApiError(403, "forbidden", `this agent token admits to pool '${pool}', not '${asked}'`);
  }
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "invalid_request", "expected a WebSocket upgrade");
  }
  const headers = new Headers(c.req.raw.headers);
  headers.set(POOL_HEADER, pool);
  headers.delete("Authorization");
  return c.env.POOL.getByName(pool).fetch(poolUrl(POOL_PATHS.connect), { headers });
});
