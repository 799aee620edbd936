import {
  AgentList,
  ApprovalRequest,
  ERROR_CODES,
  ErrorBody,
  ErrorCode,
  EventPage,
  ExecutionEvent,
  ExecutionRequest,
  ExecutionResult,
  RunEvent,
  RunList,
  RunRequest,
  RunView,
  SendMessageRequest,
  TeamStateExport,
  TenantStats,
  Termination,
  WebhookPayload,
} from "@edgeswarm/shared";
import { z } from "zod";
import { STATUS_OF } from "./status.ts";

/**
 * The OpenAPI document's `components.schemas`, made by `z.toJSONSchema` from
 * the very schemas the Worker parses with (internal to openapi-doc.ts).
 * Request bodies are converted on their input side (a field with a default
 * may be left out), answers on their output side (every field they carry).
 * Refinements (a path rule, a total size) have no JSON Schema form: zod still
 * checks them when a request arrives.
 */

type JsonObject = Record<string, unknown>;

/** `POST /v1/runs`' 201 answer: the run's first view, cut to what a caller needs to follow it. */
export const RunCreated = RunView.pick({ id: true, status: true, traceId: true, links: true });

/** `GET /healthz`. */
export const Health = z.object({ ok: z.literal(true), version: z.string() });

/** What a request sends: converted with `io: "input"`. */
const REQUESTS: Record<string, z.ZodType> = {
  ExecutionRequest,
  RunRequest,
  ApprovalRequest,
  SendMessageRequest,
  // Recursive, so it needs a name of its own; it has no defaults, so both sides are the same.
  Termination,
};

/** What the Worker answers and sends: converted with `io: "output"`. */
const ANSWERS: Record<string, z.ZodType> = {
  ErrorCode,
  ErrorBody,
  ExecutionResult,
  ExecutionEvent,
  RunCreated,
  RunView,
  RunList,
  RunEvent,
  EventPage,
  TeamStateExport,
  AgentList,
  TenantStats,
  Health,
  WebhookPayload,
  Termination,
};

const REF = "#/components/schemas/";

function convert(schemas: Record<string, z.ZodType>, io: "input" | "output"): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, { io, uri: (id) => `${REF}${id}`, unrepresentable: "any" }).schemas;
  // A cycle zod did not see registered lands in `__shared`, referred to by a
  // URI OpenAPI tools cannot follow (`…/__shared#/$defs/x`): hoist each into a
  // component of its own.
  const shared = (out.__shared?.$defs ?? {}) as Record<string, JsonObject>;
  delete out.__shared;
  const sharedName = (name: string) => `${io === "input" ? "Input" : "Output"}_${name}`;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key]) => key !== "$schema" && key !== "$id")
        .map(([key, value]) => {
          if (key === "$ref" && typeof value === "string" && value.startsWith(`${REF}__shared#/$defs/`)) {
            return [key, `${REF}${sharedName(value.slice(`${REF}__shared#/$defs/`.length))}`];
          }
          return [key, rewrite(value)];
        }),
    );
  };
  const components: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(out)) components[id] = rewrite(schema) as JsonObject;
  for (const [name, schema] of Object.entries(shared)) components[sharedName(name)] = rewrite(schema) as JsonObject;
  return components;
}

/** The HTTP status every error code answers with, grouped: status → its codes. */
export function codesByStatus(): Map<number, ErrorCode[]> {
  const by = new Map<number, ErrorCode[]>();
  for (const code of ERROR_CODES) {
    const status = STATUS_OF[code];
    by.set(status, [...(by.get(status) ?? []), code]);
  }
  return new Map([...by].sort(([a], [b]) => a - b));
}

/** Every component schema, request and answer sides merged; a name on both sides must mean the same. */
export function componentSchemas(): Record<string, JsonObject> {
  const input = convert(REQUESTS, "input");
  const output = convert(ANSWERS, "output");
  for (const [id, schema] of Object.entries(input)) {
    const other = output[id];
    if (other && JSON.stringify(other) !== JSON.stringify(schema)) {
      throw new Error(
        `the OpenAPI component '${id}' differs between requests and answers: give each side its own name`,
      );
    }
  }
  const schemas = { ...output, ...input };
  const byStatus = codesByStatus();
  schemas.ErrorCode = {
    ...schemas.ErrorCode,
    description: [
      "Every error code, stable: clients branch on them. The HTTP status of each is in `x-status-of`",
      "(one table, STATUS_OF in worker/src/http/status.ts). Codes that answer 502 travel inside results",
      "(an execution's `error.code`) and would answer 502 only if one ever surfaced as an answer.",
      "",
      ...[...byStatus].map(([status, codes]) => `- ${status}: ${codes.join(", ")}`),
    ].join("\n"),
    "x-status-of": { ...STATUS_OF },
  };
  return Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
}
