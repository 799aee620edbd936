import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";

/** `/mcp`: the MCP server over Streamable HTTP (issue 15), the API key as its Bearer token. */
export const mcp = new Hono<AppEnv>();
