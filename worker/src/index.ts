import { EDGESWARM_VERSION } from "@edgeswarm/shared";
import { Hono } from "hono";
import type { AppEnv } from "./app-env.ts";
import { authenticateTenant } from "./auth.ts";
import { loadConfig } from "./config.ts";
import { dashboard } from "./dashboard/routes.ts";
import { EdgeswarmError } from "./errors.ts";
import { agentConnect, agents } from "./http/agents.ts";
import { executions } from "./http/executions.ts";
import { openapi } from "./http/openapi.ts";
import { runs } from "./http/runs.ts";
import { stats } from "./http/stats.ts";
import { errorAnswer, errorResponse } from "./http/status.ts";
import { mcp } from "./mcp/routes.ts";
import { serverSpan } from "./telemetry/http.ts";

export { PoolDO } from "./pool/pool-do.ts";
export { RunIndexDO } from "./run/index-do.ts";
export { RunDO } from "./run/run-do.ts";
export { StatsDO } from "./stats/stats-do.ts";

const app = new Hono<AppEnv>();

app.get("/healthz", (c) => c.json({ ok: true, version: EDGESWARM_VERSION }));

// The dashboard's page and files; it reads /v1 with a key the user types, so it needs none itself.
app.route("/", dashboard);

app.use("/v1/*", serverSpan);
// The contract is public and depends on nothing but the code: it is served even by a Worker
// whose configuration is broken, which answers every other /v1 route 503 misconfigured.
app.route("/v1/openapi.json", openapi);
app.use("/v1/*", async (c, next) => {
  c.set("config", await loadConfig(c.env));
  await next();
});

// Agents authenticate with their own token; this route must come before the API-key middleware.
app.route("/v1/agents/connect", agentConnect);

app.use("/v1/*", async (c, next) => {
  c.set("tenant", await authenticateTenant(c.req.header("Authorization"), c.get("config")));
  await next();
});
app.route("/v1/executions", executions);
app.route("/v1/agents", agents);
app.route("/v1/runs", runs);
app.route("/v1/stats", stats);

// MCP clients send the API key as their Bearer token; the server checks it itself.
app.route("/mcp", mcp);

app.notFound((c) => errorAnswer("not_found", `no route ${c.req.method} ${new URL(c.req.url).pathname}`));

app.onError((err) => {
  if (err instanceof EdgeswarmError) return errorResponse(err);
  console.error("unhandled error", err);
  return errorAnswer("internal_error", "an internal error occurred");
});

export default app;
