import {
  ExecutionRequest,
  type ExecutionResult,
  type ExecutionSummary,
  errorOutcome,
  newExecutionId,
  REQUEST_MAXIMA,
} from "@edgeswarm/shared";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../app-env.ts";
import { type ExecuteBody, POOL_PATHS, poolUrl } from "../pool/internal.ts";
import { limitsForPool, poolMaxima } from "../pool-limits.ts";
import { ApiError } from "./api-error.ts";
import { limitBody, parseBody } from "./body.ts";
import { readEvents } from "./ndjson.ts";

/** How often an idle SSE stream gets a keep-alive comment. */
export const SSE_KEEPALIVE_MS = 2_000;

/** `POST /v1/executions`: run code once in a sandbox; JSON, or SSE with `Accept: text/event-stream`. */
export const executions = new Hono<AppEnv>().post("/", limitBody(REQUEST_MAXIMA.bodyBytes), async (c) => {
  const tenant = c.get("tenant");
  const parsed = await parseBody(c, ExecutionRequest);
  const pool = parsed.pool ?? tenant.pools[0];
  if (!pool || !tenant.pools.includes(pool)) {
    throw new ApiError(403, "forbidden", `this API key may not use pool '${parsed.pool}'`);
  }
  const limits = limitsForPool(parsed.limits, poolMaxima(c.env.EDGESWARM_POOL_LIMITS, pool), pool);
  const request = { ...parsed, limits };

  const id = newExecutionId();
  const stub = c.env.POOL.getByName(pool);
  let answer: Response;
  try {
    answer = await stub.fetch(poolUrl(POOL_PATHS.execute), {
      method: "POST",
      body: JSON.stringify({ id, request } satisfies ExecuteBody),
    });
  } catch (cause) {
    throw new ApiError(503, "pool_unavailable", "the sandbox pool is not reachable; retry", {
      headers: { "Retry-After": "1" },
      cause,
    });
  }
  if (!answer.ok || !answer.body) return answer; // the pool's own error answer (503 with Retry-After, 422, ...)
  const body = answer.body;

  if (c.req.header("Accept")?.includes("text/event-stream")) {
    return streamSSE(c, async (sse) => {
      const aborted = new AbortController();
      sse.onAbort(() => aborted.abort());
      const events = readEvents(body, aborted.signal);
      // A comment line now and then keeps idle proxies from closing the stream,
      // and is how a vanished caller is noticed: workerd learns of a closed
      // connection only when a write to it fails.
      const keepAlive = setInterval(
        () => void sse.write(": keep-alive\n\n").catch(() => aborted.abort()),
        SSE_KEEPALIVE_MS,
      );
      let finished = false;
      try {
        for await (const event of events) {
          await sse.writeSSE({ event: event.type, data: JSON.stringify(event) });
          finished ||= event.type === "finished";
        }
      } catch {
        // The pool went away mid-stream; the caller still gets a terminal event.
      } finally {
        clearInterval(keepAlive);
      }
      if (!finished && !aborted.signal.aborted) {
        await sse.writeSSE({ event: "finished", data: JSON.stringify({ type: "finished", result: lost(id) }) });
      }
    });
  }

  let stdout = "";
  let stderr = "";
  let summary: ExecutionSummary | undefined;
  try {
    // A JSON caller that hangs up is not noticed (workerd learns of it only on a
    // write); its execution runs to its own timeout. SSE callers cancel by leaving.
    for await (const event of readEvents(body)) {
      if (event.type === "stdout") stdout += event.data;
      else if (event.type === "stderr") stderr += event.data;
      else if (event.type === "finished") summary = event.result;
    }
  } catch {
    // As above: fall through to a terminal answer.
  }
  const result: ExecutionResult = { ...(summary ?? lost(id)), stdout, stderr };
  return c.json(result);
});

function lost(id: string): ExecutionSummary {
  return {
    ...errorOutcome("pool_unavailable", "the sandbox pool stopped answering during the execution"),
    id,
    agentId: null,
  };
}
