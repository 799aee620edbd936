import { EDGESWARM_VERSION } from "@edgeswarm/shared";
import { ERROR_EXAMPLES } from "./openapi-examples.ts";
import { type JsonObject, json, type Method, OPERATIONS, type Operation, ref } from "./openapi-paths.ts";
import { codesByStatus, componentSchemas } from "./openapi-schemas.ts";

/** An OpenAPI 3.1 document, as plain JSON. */
export interface OpenApiDocument {
  openapi: "3.1.1";
  info: JsonObject;
  servers: JsonObject[];
  tags: JsonObject[];
  paths: Record<string, Partial<Record<Method, JsonObject>>>;
  webhooks: JsonObject;
  components: { schemas: Record<string, JsonObject>; responses: JsonObject; securitySchemes: JsonObject };
}

/** Every operation behind the API key also answers these (openapi-paths.ts lists the rest). */
const CALLER_ERRORS = [401, 500, 503];

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request",
  401: "No API key, or a wrong one",
  403: "Not allowed for this key",
  404: "No such thing (or another tenant's)",
  405: "Method not allowed",
  409: "Not in a state for that",
  413: "The body is too large",
  415: "Unsupported media type",
  422: "Understood, but not possible here",
  426: "A WebSocket upgrade is needed",
  429: "A quota or a full queue; retry after Retry-After",
  500: "A bug: the API never answers 500 to anything a caller sends",
  502: "An execution failure that surfaced as an answer",
  503: "No capacity, no agents, or the Worker is misconfigured",
};

function errorResponses(): JsonObject {
  const out: JsonObject = {};
  for (const [status, codes] of codesByStatus()) {
    const retry = status === 429 || status === 503 || status === 500;
    out[`Error${status}`] = {
      description: `${STATUS_TEXT[status] ?? "Error"}: ${codes.join(", ")}.`,
      ...(retry
        ? {
            headers: {
              "Retry-After": {
                description: "Seconds to wait, when the caller may retry.",
                schema: { type: "integer" },
              },
            },
          }
        : {}),
      content: json(
        {
          allOf: [
            ref("ErrorBody"),
            { type: "object", properties: { error: { type: "object", properties: { code: { enum: codes } } } } },
          ],
        },
        status === 400 ? ERROR_EXAMPLES : undefined,
      ),
    };
  }
  return out;
}

function operation(op: Operation): JsonObject {
  const errors = [...new Set([...(op.auth === "apiKey" ? CALLER_ERRORS : []), ...(op.errors ?? [])])].sort();
  const responses: JsonObject = { ...op.answers };
  for (const status of errors) responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security: op.auth === "none" ? [] : [{ [op.auth]: [] }],
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: json(ref(op.body.schema), op.body.examples) } } : {}),
    responses,
  };
}

/**
 * The API's contract as an OpenAPI 3.1 document: every route, body, answer,
 * error code (with its status) and SSE event, and the auth schemes. Made anew
 * on each call; `GET /v1/openapi.json` keeps one per isolate.
 *
 * @example
 *   const doc = openApiDocument();
 *   doc.paths["/v1/runs/{id}"]?.get?.responses; // 200 RunView, 401, 404, …
 */
export function openApiDocument(): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const [path, methods] of Object.entries(OPERATIONS)) {
    paths[path] = Object.fromEntries(Object.entries(methods).map(([method, op]) => [method, operation(op)]));
  }
  return {
    openapi: "3.1.1",
    info: {
      title: "edgeswarm",
      version: EDGESWARM_VERSION,
      summary: "Coding-agent swarms at the edge: executions in sandboxes, agent runs and teams.",
      description: [
        "Every /v1 request but this document and the agents' socket carries `Authorization: Bearer <API key>`;",
        "a key belongs to a tenant, which sees only its own pools, agents and runs. Bodies are JSON. A request",
        "may carry a W3C `traceparent`; every answer carries one. Every error answer is",
        "`{error: {code, message, details?}}` with a stable `code` (components.schemas.ErrorCode, whose",
        "`x-status-of` gives each code's status).",
      ].join(" "),
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: "/", description: "The Worker that serves this document." }],
    tags: [
      { name: "executions", description: "Code run once in a fresh sandbox, no model." },
      {
        name: "runs",
        description: "Agent runs: a planner and a coder, or a team, in a loop of model calls and executions.",
      },
      { name: "agents", description: "The self-hosted sandbox agents." },
      { name: "stats", description: "The tenant's own figures." },
      { name: "meta", description: "Health and this contract." },
    ],
    paths,
    webhooks: {
      runEnded: {
        post: {
          operationId: "runEnded",
          summary: "Sent to a run's webhookUrl once it ends",
          description:
            'Signed: `Edgeswarm-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the tenant\'s secret.',
          parameters: [
            { name: "Edgeswarm-Event", in: "header", required: true, schema: { type: "string" } },
            { name: "Edgeswarm-Delivery", in: "header", required: true, schema: { type: "string" } },
            { name: "Edgeswarm-Attempt", in: "header", required: true, schema: { type: "string" } },
            { name: "Edgeswarm-Signature", in: "header", required: true, schema: { type: "string" } },
          ],
          requestBody: { required: true, content: json(ref("WebhookPayload")) },
          responses: { "2XX": { description: "Delivered; anything else but 408, 429 and 5xx is final." } },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      responses: errorResponses(),
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key; it names a tenant." },
        agentToken: {
          type: "http",
          scheme: "bearer",
          description: "A sandbox agent's token; it names a pool. Only for /v1/agents/connect.",
        },
      },
    },
  };
}
