import {
  ApprovalRequest,
  ERROR_CODES,
  ExecutionRequest,
  RUN_EVENT_TYPES,
  RunRequest,
  SendMessageRequest,
} from "@edgeswarm/shared";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import apiMd from "../../../docs/api.md";
import teamsMd from "../../../docs/teams.md";
import readme from "../../../README.md";
import { openApiDocument } from "./openapi-doc.ts";
import { STATUS_OF } from "./status.ts";

// The app, read in Node: its Durable Objects' base classes and its bundled
// text files are workerd's and wrangler's, so they are stood in for here.
vi.mock("cloudflare:workers", () => {
  class Base {}
  return { DurableObject: Base, RpcTarget: Base, WorkerEntrypoint: Base };
});
vi.mock("../dashboard/assets.ts", () => ({
  INDEX: { body: "", type: "text/html" },
  DOCS: { body: "", type: "text/html" },
  ASSETS: new Map(),
}));

type JsonObject = Record<string, unknown>;
const doc = openApiDocument();

/** Every operation as "METHOD /path/{param}", with the operation. */
function operations(): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) out.set(`${method.toUpperCase()} ${path}`, op as JsonObject);
  }
  return out;
}

/**
 * Routes that are not the JSON API, each with why: the dashboard's pages and
 * files, and the MCP server, whose own `tools/list` is its contract.
 */
const OUTSIDE = [/^\/$/, /^\/dashboard\//, /^\/docs(\/|$)/, /^\/mcp(\/|$)/];

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(openApiDocument() as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("has no $ref that leads nowhere", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of new Set(refs)) {
      const target = ref.split("/").reduce<unknown>((at, part) => (at as JsonObject | undefined)?.[part], doc);
      expect(target, `#/${ref}`).toBeDefined();
    }
  });

  it("has every route the app has, and no route it lacks", async () => {
    const { default: app } = await import("../index.ts");
    const routes = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && !OUTSIDE.some((p) => p.test(r.path)))
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    expect(routes.size).toBeGreaterThan(10);
    expect([...operations().keys()].sort()).toEqual([...routes].sort());
  });

  it("names every error code, with the status it answers", () => {
    const schema = doc.components.schemas.ErrorCode as { enum: string[]; "x-status-of": Record<string, number> };
    expect(schema.enum).toEqual([...ERROR_CODES]);
    expect(schema["x-status-of"]).toEqual(STATUS_OF);
    const responses = doc.components.responses as Record<string, { content: JsonObject }>;
    for (const code of ERROR_CODES) {
      const response = JSON.stringify(responses[`Error${STATUS_OF[code]}`]);
      expect(response, `Error${STATUS_OF[code]} lists ${code}`).toContain(`"${code}"`);
    }
  });

  it("asks for the API key on every /v1 route but the document and the agents' socket", () => {
    for (const [name, op] of operations()) {
      const expected = name.endsWith(" /v1/agents/connect")
        ? [{ agentToken: [] }]
        : name.startsWith("GET /v1/openapi.json") || !name.includes(" /v1/")
          ? []
          : [{ apiKey: [] }];
      expect(op.security, name).toEqual(expected);
      if (expected[0] && "apiKey" in expected[0]) expect(Object.keys(op.responses as JsonObject)).toContain("401");
    }
    expect(Object.keys(doc.components.securitySchemes)).toEqual(["apiKey", "agentToken"]);
  });

  it("documents both event streams with their event schemas", () => {
    const stream = (key: string) => {
      const responses = operations().get(key)?.responses as Record<string, { content: JsonObject }> | undefined;
      return responses?.["200"]?.content["text/event-stream"];
    };
    expect(stream("GET /v1/runs/{id}/events")).toMatchObject({ schema: { $ref: "#/components/schemas/RunEvent" } });
    expect(stream("POST /v1/executions")).toMatchObject({ schema: { $ref: "#/components/schemas/ExecutionEvent" } });
    const runEvent = JSON.stringify(doc.components.schemas.RunEvent);
    for (const type of RUN_EVENT_TYPES) expect(runEvent).toContain(`"const":"${type}"`);
  });

  it("has request examples that the Worker's own schemas accept", () => {
    const schemas: Record<string, z.ZodType> = { ExecutionRequest, RunRequest, ApprovalRequest, SendMessageRequest };
    let seen = 0;
    for (const [name, op] of operations()) {
      const body = (op.requestBody as { content: Record<string, JsonObject> } | undefined)?.content["application/json"];
      if (!body) continue;
      const schema = schemas[((body.schema as { $ref: string }).$ref ?? "").split("/").at(-1) ?? ""];
      expect(schema, `${name} has a known body schema`).toBeDefined();
      for (const [example, { value }] of Object.entries(body.examples as Record<string, { value: unknown }>)) {
        const parsed = schema?.safeParse(value);
        expect(parsed?.success, `${name} example ${example}: ${parsed?.error?.message}`).toBe(true);
        seen++;
      }
    }
    expect(seen).toBeGreaterThanOrEqual(8);
  });

  it("carries the README's and docs' curl bodies, and docs/teams.md's team, as examples", () => {
    const examples = exampleValues();
    const bodies = [...`${readme}\n${apiMd}`.matchAll(/curl [^`]*?-d '([^']+)'/g)].map((m) => JSON.parse(m[1] ?? ""));
    expect(bodies.length).toBeGreaterThanOrEqual(2);
    const team = /```json\n(\{\n {2}"task"[\s\S]*?\n\})\n```/.exec(teamsMd)?.[1];
    expect(team).toBeDefined();
    for (const body of [...bodies, JSON.parse(team ?? "")]) {
      expect(examples.map((e) => JSON.stringify(e))).toContain(JSON.stringify(body));
    }
  });
});

function exampleValues(): unknown[] {
  const out: unknown[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "examples" && value && typeof value === "object" && !Array.isArray(value)) {
          for (const example of Object.values(value)) out.push((example as { value: unknown }).value);
        } else visit(value);
      }
    }
  };
  visit(doc.paths);
  return out;
}
