import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { openApiDocument } from "./openapi-doc.ts";

/** The document's text, made once per isolate: it depends on nothing but the code. */
let text: string | undefined;

/** `GET /v1/openapi.json`: the API's contract (issue 15), served without auth. */
export const openapi = new Hono<AppEnv>().get("/", (c) => {
  text ??= JSON.stringify(openApiDocument());
  return c.body(text, 200, {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "public, max-age=300",
    // Public and without credentials: any origin's API tools may read it.
    "Access-Control-Allow-Origin": "*",
  });
});
