import {
  ExecutionRequest,
  type ExecutionResult,
  type ExecutionSummary,
  errorOutcome,
  newExecutionId,
  REQUEST_MAXIMA,
} from "@edgeswarm/shared";
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../app-env.ts";
import { EdgeswarmError } from "../errors.ts";
import { type ExecutionReport, executeInPool } from "../pool/client.ts";
import type { ExecuteInput, PoolEvent } from "../pool/rpc.ts";
import { limitsForPool } from "../pool-limits.ts";
import { inject, traceIdOf } from "../telemetry/telemetry.ts";
import { limitBody, parseBody } from "./body.ts";

/** How often an idle SSE stream gets a keep-alive comment. */
export const SSE_KEEPALIVE_MS = 2_000;

/** The pool's input for a validated request: its limits resolved for the pool, the tenant's quotas. */
function executeInput(c: Context<AppEnv>, parsed: ExecutionRequest): { pool: string; input: ExecuteInput } {
  const tenant = c.get("tenant");
  const config = c.get("config");
  const pool = parsed.pool ?? tenant.pools[0];
  if (!pool || !tenant.pools.includes(pool)) {
    throw new EdgeswarmError("forbidden", `this API key may not use pool '${parsed.pool}'`);
  }
  const limits = limitsForPool(parsed.limits, config.poolMaxima(pool), pool);
  const input: ExecuteInput = {
    id: newExecutionId(),
    tenant: {
      id: tenant.id,
      concurrentExecutions: tenant.limits.concurrentExecutions,
      queuedExecutions: tenant.limits.queuedExecutions,
    },
    spec: {
      language: parsed.language,
      code: parsed.code,
      files: parsed.files,
      stdin: parsed.stdin,
      args: parsed.args,
      env: parsed.env,
      limits,
    },
    queueTimeoutMs: parsed.queueTimeoutMs,
    queueMax: config.queueMax,
    trace: inject(c.get("trace")),
  };
  return { pool, input };
}

/** `POST /v1/executions`: run code once in a sandbox; JSON, or SSE with `Accept: text/event-stream`. */
export const executions = new Hono<AppEnv>().post("/", limitBody(REQUEST_MAXIMA.bodyBytes), async (c) => {
  const parsed = await parseBody(c, ExecutionRequest);
  if (c.req.header("Accept")?.includes("text/event-stream")) {
    const { pool, input } = executeInput(c, parsed);
    return stream(c, pool, input);
  }
  // A caller that hangs up cancels its execution, waiting or running.
  return c.json(await runExecution(c, parsed, c.req.raw.signal));
});

/**
 * Runs a validated request to its whole result: the JSON answer of `POST
 * /v1/executions`, and MCP's `run_code`. Aborting `signal` cancels it. A
 * refusal before any agent took it throws (an error answer); after, it is an
 * error result.
 */
export async function runExecution(
  c: Context<AppEnv>,
  parsed: ExecutionRequest,
  signal: AbortSignal,
): Promise<ExecutionResult> {
  const { pool, input } = executeInput(c, parsed);
  const report = await executeInPool(c.env, pool, input, {
    signal,
    waitUntil: (work) => c.executionCtx.waitUntil(work),
  });
  return { ...result(input.id, report), traceId: traceIdOf(c.get("trace")) };
}

/** The JSON answer: a refusal before any agent took it is an error answer; after, an error result. */
function result(id: string, report: ExecutionReport): ExecutionResult {
  if (report.kind === "done") return { ...report.summary, stdout: report.stdout, stderr: report.stderr };
  if (!report.started) throw report.error;
  return { ...lost(id, report.error), stdout: "", stderr: "" };
}

/**
 * The SSE answer. The stream opens with the execution's first event (queued
 * or started); a refusal before that is an ordinary error answer. The pool
 * waits for each event to be written, so a caller that does not read slows
 * its own execution, never the pool.
 */
async function stream(c: Context<AppEnv>, pool: string, input: ExecuteInput): Promise<Response> {
  const first = Promise.withResolvers<void>();
  let writer: ((event: PoolEvent) => Promise<void>) | undefined;
  const pending: PoolEvent[] = [];
  const aborted = new AbortController();
  c.req.raw.signal.addEventListener("abort", () => aborted.abort(), { once: true });
  const report = executeInPool(c.env, pool, input, {
    signal: aborted.signal,
    waitUntil: (work) => c.executionCtx.waitUntil(work),
    onEvent: async (event) => {
      first.resolve();
      if (writer) await writer(event);
      else pending.push(event);
    },
  });
  // Ended before any event: a refusal, answered as an error like a JSON caller's.
  const before = await Promise.race([first.promise.then(() => null), report]);
  if (before?.kind === "refused" && !before.started) throw before.error;

  return streamSSE(c, async (sse) => {
    sse.onAbort(() => aborted.abort());
    const write = async (event: PoolEvent) => {
      // Files come with `finished`, whole; a file dropped on the way is simply not among them.
      if (event.type === "file" || event.type === "file_dropped") return;
      const data = event.type === "started" ? { type: "started", id: input.id, agentId: event.agentId } : event;
      await sse.writeSSE({ event: event.type, data: JSON.stringify(data) });
    };
    // A comment line now and then keeps idle proxies from closing the stream,
    // and is how a vanished caller is noticed: workerd learns of a closed
    // connection only when a write to it fails.
    const keepAlive = setInterval(
      () => void sse.write(": keep-alive\n\n").catch(() => aborted.abort()),
      SSE_KEEPALIVE_MS,
    );
    try {
      // Events that came before the stream opened, then the rest as they come.
      for (let event = pending.shift(); event; event = pending.shift()) await write(event);
      writer = write;
      const done = await report;
      if (aborted.signal.aborted) return;
      const summary: ExecutionSummary = {
        ...(done.kind === "done" ? done.summary : lost(input.id, done.error)),
        traceId: traceIdOf(c.get("trace")),
      };
      await sse.writeSSE({ event: "finished", data: JSON.stringify({ type: "finished", result: summary }) });
    } catch {
      aborted.abort(); // the caller went away mid-write
    } finally {
      clearInterval(keepAlive);
    }
  });
}

function lost(id: string, error: EdgeswarmError): ExecutionSummary {
  return { ...errorOutcome(error.code, error.message), id, agentId: null };
}
