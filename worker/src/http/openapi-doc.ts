import { EDGESWARM_VERSION, RUN_EVENT_TYPES, RunId, StatsWindow } from "@edgeswarm/shared";
import { z } from "zod";
import {
  APPROVAL_EXAMPLES,
  ERROR_EXAMPLES,
  EXECUTION_REQUEST_EXAMPLES,
  EXECUTION_RESULT_EXAMPLES,
  MESSAGE_EXAMPLES,
  RUN_CREATED_EXAMPLES,
  RUN_REQUEST_EXAMPLES,
} from "./openapi-examples.ts";
import { codesByStatus, componentSchemas } from "./openapi-schemas.ts";

type JsonObject = Record<string, unknown>;
type Method = "get" | "post";

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

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonObject, examples?: JsonObject) => ({
  "application/json": { schema, ...(examples ? { examples } : {}) },
});
const paramSchema = (schema: z.ZodType) => {
  const { $schema: _, ...out } = z.toJSONSchema(schema) as JsonObject;
  return out;
};

const RUN_ID_PARAM = {
  name: "id",
  in: "path",
  required: true,
  description: "The run's id. Another tenant's run, or one never made, answers 404.",
  schema: paramSchema(RunId),
};

const intQuery = (name: string, description: string, max: number) => ({
  name,
  in: "query",
  required: false,
  description,
  schema: { type: "integer", minimum: 0, maximum: max },
});

const SSE_ACCEPT = {
  name: "Accept",
  in: "header",
  required: false,
  description: "`text/event-stream` asks for Server-Sent Events instead of JSON.",
  schema: { type: "string", examples: ["text/event-stream"] },
};

const CALLER_ERRORS = [401, 500, 503];

/**
 * One operation. `errors` lists the statuses it may answer besides its own,
 * each an `Error<status>` response whose `code` is narrowed to that status's
 * codes; every operation behind the API key also answers 401, 500 and 503.
 */
interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  auth: "apiKey" | "agentToken" | "none";
  parameters?: JsonObject[];
  body?: { schema: string; examples: JsonObject; description?: string };
  answers: Record<string, JsonObject>;
  errors?: number[];
}

const OPERATIONS: Record<string, Partial<Record<Method, Operation>>> = {
  "/healthz": {
    get: {
      operationId: "health",
      summary: "Is the Worker up",
      tag: "meta",
      auth: "none",
      answers: { 200: { description: "It is.", content: json(ref("Health")) } },
    },
  },
  "/v1/openapi.json": {
    get: {
      operationId: "openapi",
      summary: "This document",
      description: "The API's contract, made from the zod schemas the Worker parses with. Public: it holds no data.",
      tag: "meta",
      auth: "none",
      answers: { 200: { description: "An OpenAPI 3.1 document.", content: json({ type: "object" }) } },
      errors: [500, 503],
    },
  },
  "/v1/executions": {
    post: {
      operationId: "runExecution",
      summary: "Run code once in a fresh sandbox",
      description: [
        "JSON by default: the answer comes when the program has ended, whatever its status.",
        "With `Accept: text/event-stream` the answer is Server-Sent Events: `queued` while it waits, `started`,",
        "`stdout` and `stderr` as the program writes, then one `finished`. Each SSE event is named after its",
        "`type` and its data is the event as JSON. A comment line every 2 s keeps idle connections open.",
        "A refusal before the stream begins is an ordinary error answer. A caller that hangs up cancels it.",
      ].join(" "),
      tag: "executions",
      auth: "apiKey",
      parameters: [SSE_ACCEPT],
      body: { schema: "ExecutionRequest", examples: EXECUTION_REQUEST_EXAMPLES },
      answers: {
        200: {
          description:
            "The result (JSON), or its events (SSE): each SSE event's `data` is an ExecutionEvent and its `event` field the event's `type`.",
          content: {
            ...json(ref("ExecutionResult"), EXECUTION_RESULT_EXAMPLES),
            "text/event-stream": {
              schema: ref("ExecutionEvent"),
              "x-sse-events": ["queued", "started", "stdout", "stderr", "finished"],
            },
          },
        },
      },
      errors: [400, 403, 413, 422, 429, 502],
    },
  },
  "/v1/runs": {
    post: {
      operationId: "createRun",
      summary: "Start an agent run",
      description:
        "A planner and a coder by default, or a team (`team`); `fromState` continues an exported team's conversation.",
      tag: "runs",
      auth: "apiKey",
      body: { schema: "RunRequest", examples: RUN_REQUEST_EXAMPLES },
      answers: { 201: { description: "The run, begun.", content: json(ref("RunCreated"), RUN_CREATED_EXAMPLES) } },
      errors: [400, 403, 413, 422, 429],
    },
    get: {
      operationId: "listRuns",
      summary: "The tenant's runs, newest first",
      tag: "runs",
      auth: "apiKey",
      parameters: [
        intQuery("limit", "At most this many (default 20).", 100),
        {
          name: "cursor",
          in: "query",
          required: false,
          description: "`nextCursor` of the page before.",
          schema: { type: "string" },
        },
      ],
      answers: { 200: { description: "One page.", content: json(ref("RunList")) } },
      errors: [400],
    },
  },
  "/v1/runs/{id}": {
    get: {
      operationId: "getRun",
      summary: "A run: status, plan, result, usage",
      tag: "runs",
      auth: "apiKey",
      parameters: [RUN_ID_PARAM],
      answers: { 200: { description: "The run's view.", content: json(ref("RunView")) } },
      errors: [404],
    },
  },
  "/v1/runs/{id}/events": {
    get: {
      operationId: "runEvents",
      summary: "The run's event log: JSON pages, or followed live over SSE",
      description: [
        "With `Accept: text/event-stream`: every event from `Last-Event-ID` (or `?after=`) on, each with `id: <seq>`,",
        "`event: <type>` and the event as JSON data, live until the run ends. A reconnect with `Last-Event-ID`",
        "resumes without a gap or a repeat. Otherwise one JSON page after `?after=`.",
        `The event types: ${RUN_EVENT_TYPES.join(", ")}.`,
      ].join(" "),
      tag: "runs",
      auth: "apiKey",
      parameters: [
        RUN_ID_PARAM,
        SSE_ACCEPT,
        {
          name: "Last-Event-ID",
          in: "header",
          required: false,
          description: "SSE: resume after this seq.",
          schema: { type: "string", pattern: "^\\d{1,15}$" },
        },
        intQuery("after", "The events after this seq (default 0).", Number.MAX_SAFE_INTEGER),
        intQuery("limit", "JSON: at most this many (default 100).", 1000),
      ],
      answers: {
        200: {
          description:
            "A page (JSON), or the stream (SSE): each SSE event's `data` is a RunEvent, its `event` field the event's `type` and its `id` the event's `seq`.",
          content: {
            ...json(ref("EventPage")),
            "text/event-stream": {
              schema: ref("RunEvent"),
              "x-sse-events": RUN_EVENT_TYPES,
            },
          },
        },
      },
      errors: [400, 404, 429],
    },
  },
  "/v1/runs/{id}/cancel": {
    post: {
      operationId: "cancelRun",
      summary: "End the run as cancelled, killing its running container",
      tag: "runs",
      auth: "apiKey",
      parameters: [RUN_ID_PARAM],
      answers: { 200: { description: "The run's view.", content: json(ref("RunView")) } },
      errors: [404, 409],
    },
  },
  "/v1/runs/{id}/approval": {
    post: {
      operationId: "approveRun",
      summary: "Approve or deny a call a run in awaiting_approval waits on",
      tag: "runs",
      auth: "apiKey",
      parameters: [RUN_ID_PARAM],
      body: { schema: "ApprovalRequest", examples: APPROVAL_EXAMPLES },
      answers: { 200: { description: "The run's view.", content: json(ref("RunView")) } },
      errors: [400, 404, 409, 413],
    },
  },
  "/v1/runs/{id}/messages": {
    post: {
      operationId: "sendMessage",
      summary: "Answer a run in awaiting_input, or continue one that has ended",
      tag: "runs",
      auth: "apiKey",
      parameters: [RUN_ID_PARAM],
      body: { schema: "SendMessageRequest", examples: MESSAGE_EXAMPLES },
      answers: { 200: { description: "The run's view.", content: json(ref("RunView")) } },
      errors: [400, 404, 409, 413, 429],
    },
  },
  "/v1/runs/{id}/state": {
    get: {
      operationId: "runState",
      summary: "A team run's state, which POST /v1/runs takes back as fromState",
      tag: "runs",
      auth: "apiKey",
      parameters: [RUN_ID_PARAM],
      answers: { 200: { description: "The state, versioned.", content: json(ref("TeamStateExport")) } },
      errors: [404, 409],
    },
  },
  "/v1/agents": {
    get: {
      operationId: "listAgents",
      summary: "The sandbox agents connected to the tenant's pools",
      tag: "agents",
      auth: "apiKey",
      answers: { 200: { description: "The agents.", content: json(ref("AgentList")) } },
    },
  },
  "/v1/agents/connect": {
    get: {
      operationId: "agentConnect",
      summary: "The WebSocket sandbox agents dial",
      description: "Authenticated by an agent token, which names its pool. The frames are shared/src/wire.ts's.",
      tag: "agents",
      auth: "agentToken",
      parameters: [
        {
          name: "pool",
          in: "query",
          required: false,
          description: "Must be the token's pool.",
          schema: { type: "string" },
        },
      ],
      answers: { 101: { description: "Switching to the WebSocket protocol." } },
      errors: [401, 403, 426, 500, 503],
    },
  },
  "/v1/stats": {
    get: {
      operationId: "tenantStats",
      summary: "The key's tenant's statistics over a window",
      tag: "stats",
      auth: "apiKey",
      parameters: [
        { name: "window", in: "query", required: false, description: "Default 1h.", schema: paramSchema(StatsWindow) },
      ],
      answers: { 200: { description: "The figures.", content: json(ref("TenantStats")) } },
      errors: [400],
    },
  },
};

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
