import type { AgentList, AgentSummary } from "@edgeswarm/shared";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { authenticateAgent, type Tenant } from "../auth.ts";
import type { Env } from "../env.ts";
import { EdgeswarmError } from "../errors.ts";
import { poolAgents } from "../pool/client.ts";
import { CONNECT_HEADERS } from "../pool/pool-do.ts";

/** The agents connected to the tenant's pools: `GET /v1/agents`, and MCP's `list_agents`. */
export async function tenantAgents(env: Env, tenant: Tenant): Promise<AgentList> {
  const lists = await Promise.all(tenant.pools.map((pool) => poolAgents(env, pool)));
  const all: AgentSummary[] = lists.flat();
  return { agents: all };
}

/** `GET /v1/agents`: the agents connected to the tenant's pools. */
export const agents = new Hono<AppEnv>().get("/", async (c) => c.json(await tenantAgents(c.env, c.get("tenant"))));

/**
 * `GET /v1/agents/connect`: the WebSocket sandbox agents dial. Authenticated by
 * an agent token (which names the pool), not by an API key.
 */
export const agentConnect = new Hono<AppEnv>().get("/", async (c) => {
  const grant = await authenticateAgent(c.req.header("Authorization"), c.get("config"));
  const asked = c.req.query("pool");
  if (asked && asked !== grant.pool) {
    throw new EdgeswarmError("forbidden", `this agent token admits to pool '${grant.pool}', not '${asked}'`);
  }
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new EdgeswarmError("upgrade_required", "expected a WebSocket upgrade");
  }
  // Only the Worker sets these: a client's own copies are dropped with the rest.
  const headers = new Headers({ Upgrade: "websocket" });
  for (const name of ["Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Connection"]) {
    const value = c.req.header(name);
    if (value) headers.set(name, value);
  }
  headers.set(CONNECT_HEADERS.pool, grant.pool);
  headers.set(CONNECT_HEADERS.tokenId, grant.tokenId);
  headers.set(CONNECT_HEADERS.maxCapacity, String(grant.maxCapacity));
  return c.env.POOL.getByName(grant.pool).fetch("https://pool.internal/connect", { headers });
});
