import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";

/** `GET /v1/openapi.json`: the API's contract (issue 15), served without auth. */
export const openapi = new Hono<AppEnv>();
