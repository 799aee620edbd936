import { RUN_EVENT_TYPES, RunId, StatsWindow } from "@edgeswarm/shared";
import { z } from "zod";
import {
  APPROVAL_EXAMPLES,
  EXECUTION_REQUEST_EXAMPLES,
  EXECUTION_RESULT_EXAMPLES,
  MESSAGE_EXAMPLES,
  RUN_CREATED_EXAMPLES,
  RUN_REQUEST_EXAMPLES,
} from "./openapi-examples.ts";

/**
 * The API's routes for the OpenAPI document (openapi-doc.ts assembles it):
 * each operation's parameters, body, answers and the error statuses it may
 * answer, by path and method.
 */

export type JsonObject = Record<string, unknown>;
export type Method = "get" | "post";

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: JsonObject, examples?: JsonObject) => ({
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

/**
 * One operation. `errors` lists the statuses it may answer besides its own,
 * each an `Error<status>` response whose `code` is narrowed to that status's
 * codes; every operation behind the API key also answers 401, 500 and 503.
 */
export interface Operation {
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

export const OPERATIONS: Record<string, Partial<Record<Method, Operation>>> = {
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
