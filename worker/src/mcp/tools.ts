import { ExecutionRequest, errorBody, RunRequest } from "@edgeswarm/shared";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { EdgeswarmError, unwrap } from "../errors.ts";
import { tenantAgents } from "../http/agents.ts";
import { parseValue } from "../http/body.ts";
import { runExecution } from "../http/executions.ts";
import { createRun, ownedRun } from "../http/runs.ts";
import {
  AgentsOutput,
  GetRunInput,
  RunCodeInput,
  RunCodeOutput,
  RunOutput,
  StartRunInput,
  StartRunOutput,
  WAIT_RUN_MS,
  WaitRunInput,
} from "./schemas.ts";
import { waitForRun } from "./wait.ts";

/**
 * A tool's answer: the value as structured content and as JSON text, for
 * clients that read only text. The value is parsed with the tool's output
 * schema first, because clients check structured content against it and the
 * JSON Schema of a zod object admits no other field. An EdgeswarmError is a
 * tool error carrying the API's error body, so the model sees the same
 * `{error: {code, message}}` a caller of the API would.
 */
async function answer<T extends z.ZodType<Record<string, unknown>>>(
  schema: T,
  work: () => Promise<z.input<T>>,
): Promise<CallToolResult> {
  try {
    const value = schema.parse(await work());
    return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
  } catch (cause) {
    const err =
      cause instanceof EdgeswarmError ? cause : new EdgeswarmError("internal_error", "an internal error occurred");
    if (!(cause instanceof EdgeswarmError)) console.error("unhandled error in an MCP tool", cause);
    return {
      content: [{ type: "text", text: JSON.stringify(errorBody(err.code, err.message, err.details)) }],
      isError: true,
    };
  }
}

/**
 * Registers edgeswarm's tools on `server` for the request `c`, whose tenant is
 * already authenticated. Each tool calls what the HTTP route calls, with the
 * same checks: a tenant reaches only its own pools and runs.
 */
export function registerTools(server: McpServer, c: Context<AppEnv>): void {
  const tenant = c.get("tenant");
  // A tool's work stops when its caller cancels the call or hangs up.
  const signalOf = (extra: { signal: AbortSignal }) => AbortSignal.any([extra.signal, c.req.raw.signal]);

  server.registerTool(
    "run_code",
    {
      title: "Run code in a sandbox",
      description:
        "Runs a program once in a fresh, locked-down sandbox (no network) and returns its stdout, stderr, exit code, " +
        "status (succeeded, failed, timed_out, oom_killed, …) and the files it wrote. A program that fails is a " +
        "result, not a tool error.",
      inputSchema: RunCodeInput,
      outputSchema: RunCodeOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (args, extra) => answer(RunCodeOutput, () => runExecution(c, parseValue(ExecutionRequest, args), signalOf(extra))),
  );

  server.registerTool(
    "start_run",
    {
      title: "Start an agent run",
      description:
        "Starts a coding-agent run on a task: a planner splits it into steps, a coder writes code and runs it in " +
        "the sandbox until each step verifiably works or a limit ends the run. Answers at once with the run's id " +
        "and status; follow it with wait_run or get_run.",
      inputSchema: StartRunInput,
      outputSchema: StartRunOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (args) => answer(StartRunOutput, () => createRun(c, parseValue(RunRequest, args))),
  );

  server.registerTool(
    "get_run",
    {
      title: "Get a run",
      description: "A run's status, plan, iterations, token usage, and its result or error once it has ended.",
      inputSchema: GetRunInput,
      outputSchema: RunOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ id }) => answer(RunOutput, async () => unwrap(await (await ownedRun(c, id)).view(tenant.id))),
  );

  server.registerTool(
    "wait_run",
    {
      title: "Wait for a run",
      description:
        "Waits until a run has ended (succeeded, failed, cancelled, timed_out) or waits on its caller " +
        `(awaiting_approval, awaiting_input), for at most timeoutMs (${WAIT_RUN_MS.default} ms unless given, ` +
        `${WAIT_RUN_MS.max} ms at most), then answers the run as get_run does. Call it again while the status ` +
        "is still queued, planning or running.",
      inputSchema: WaitRunInput,
      outputSchema: RunOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ id, timeoutMs }, extra) =>
      answer(RunOutput, async () => waitForRun(await ownedRun(c, id), tenant.id, timeoutMs, signalOf(extra))),
  );

  server.registerTool(
    "list_agents",
    {
      title: "List sandbox agents",
      description: "The sandbox agents connected to this API key's pools: their capacity, load, languages and health.",
      outputSchema: AgentsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => answer(AgentsOutput, () => tenantAgents(c.env, tenant)),
  );
}
