import { EDGESWARM_VERSION, REQUEST_MAXIMA } from "@edgeswarm/shared";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { authenticateTenant } from "../auth.ts";
import { loadConfig } from "../config.ts";
import { EdgeswarmError } from "../errors.ts";
import { errorResponse } from "../http/status.ts";
import { serverSpan } from "../telemetry/http.ts";
import { registerTools } from "./tools.ts";

const INSTRUCTIONS =
  "edgeswarm runs code in fresh, locked-down sandboxes, and coding-agent runs that write and test it. " +
  "run_code runs a program once and returns its output. start_run starts a run on a task; wait_run follows it " +
  "until it ends, get_run reads it. list_agents shows the sandbox agents that do the work.";

/**
 * The server checks every argument and answer with zod, and a JSON Schema
 * only for an elicitation, which these tools never ask for. Without this the
 * SDK would build an Ajv instance for each request's server (about a
 * millisecond of CPU) only to leave it unused.
 */
const NO_JSON_SCHEMA: jsonSchemaValidator = {
  getValidator: () => () => ({ valid: false, data: undefined, errorMessage: "this server checks no JSON Schema" }),
};

/**
 * `/mcp`: the MCP server over Streamable HTTP, with the API key as its Bearer
 * token. It is stateless: each POST gets a new server and transport, so an
 * isolate keeps nothing between requests and any instance can answer any call.
 *
 * @example
 *   // An MCP client's configuration
 *   {"mcpServers": {"edgeswarm": {"type": "http", "url": "https://…/mcp",
 *     "headers": {"Authorization": "Bearer <API key>"}}}}
 */
export const mcp = new Hono<AppEnv>();

mcp.use("*", serverSpan);
mcp.use("*", async (c, next) => {
  c.set("config", await loadConfig(c.env));
  try {
    c.set("tenant", await authenticateTenant(c.req.header("Authorization"), c.get("config")));
  } catch (err) {
    if (!(err instanceof EdgeswarmError)) throw err;
    // The API's own 401, with the scheme it wants named (RFC 6750), as MCP's authorization spec asks.
    const res = errorResponse(err);
    res.headers.set("WWW-Authenticate", 'Bearer realm="edgeswarm"');
    return res;
  }
  await next();
});

mcp.post("/", async (c) => {
  const server = new McpServer(
    { name: "edgeswarm", version: EDGESWARM_VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS, jsonSchemaValidator: NO_JSON_SCHEMA },
  );
  registerTools(server, c);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    maxRequestBodySize: REQUEST_MAXIMA.bodyBytes,
  });
  await server.connect(transport);
  // A caller that hangs up ends its calls: closing the server aborts each tool's signal.
  c.req.raw.signal.addEventListener("abort", () => void server.close(), { once: true });
  return transport.handleRequest(c.req.raw);
});

// Stateless, so there is no stream of server-initiated messages to open (GET)
// and no session to end (DELETE): the transport spec's answer is 405.
mcp.on(["GET", "DELETE"], "/", () =>
  Response.json(
    {
      jsonrpc: "2.0",
      error: { code: -32000, message: "Method not allowed: this server is stateless; POST only" },
      id: null,
    },
    { status: 405, headers: { Allow: "POST" } },
  ),
);
