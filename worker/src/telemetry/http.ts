import { type Context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "../app-env.ts";
import { carrierOf, extract, telemetry } from "./telemetry.ts";

/**
 * The HTTP server span of every /v1 request. It continues the caller's trace
 * when the request has a valid `traceparent` (and `tracestate`), else starts
 * one; the answer's `traceparent` names this span, so a caller can find its
 * request in the operator's traces. Spans are sent after the answer.
 */
export const serverSpan: MiddlewareHandler<AppEnv> = async (c, next) => {
  const t = telemetry(c.env);
  const parent = extract({ traceparent: c.req.header("traceparent"), tracestate: c.req.header("tracestate") });
  const url = new URL(c.req.url);
  const span = t.tracer.startSpan(
    c.req.method,
    {
      kind: SpanKind.SERVER,
      startTime: Date.now(),
      attributes: {
        "http.request.method": c.req.method,
        "url.path": url.pathname,
        "url.scheme": url.protocol.replace(":", ""),
        ...(c.req.header("User-Agent") ? { "user_agent.original": c.req.header("User-Agent") } : {}),
      },
    },
    parent,
  );
  const context: Context = trace.setSpan(parent, span);
  c.set("trace", context);
  try {
    await next();
  } finally {
    const route = routePath(c, -1);
    span.updateName(`${c.req.method} ${route}`);
    span.setAttribute("http.route", route);
    const tenant = c.get("tenant");
    if (tenant) span.setAttribute("edgeswarm.tenant", tenant.id);
    const status = c.res.status;
    span.setAttribute("http.response.status_code", status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(Date.now());
    try {
      c.res.headers.set("traceparent", carrierOf(span).traceparent);
    } catch {
      // An upgrade's answer (101) has fixed headers; an agent needs no traceparent.
    }
    // Sent a moment after the answer, with what the pool's spans add meanwhile:
    // serialising them must not delay this answer.
    t.flushSoon((work) => c.executionCtx.waitUntil(work));
  }
};
