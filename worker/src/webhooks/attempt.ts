import { EDGESWARM_VERSION, type TraceCarrier, WEBHOOK_HEADERS } from "@edgeswarm/shared";
import { ATTEMPT_TIMEOUT_MS, type AttemptResult, parseRetryAfter } from "./policy.ts";
import { signatureHeader } from "./signature.ts";

/** What one attempt sends. */
export interface AttemptRequest {
  url: string;
  body: string;
  deliveryId: string;
  type: string;
  attempt: number;
  secret: string;
  /** The run's root span: the receiver may continue its trace. */
  trace?: TraceCarrier | undefined;
}

/**
 * POSTs one attempt of a delivery, freshly signed, and reports how it went.
 * Never throws: every failure is a result. Redirects are not followed (the
 * URL the caller gave is the only one that gets the run). The answer's body is
 * not read beyond cancelling it.
 */
export async function attemptDelivery(req: AttemptRequest): Promise<AttemptResult> {
  const now = Date.now();
  const signature = await signatureHeader(req.secret, Math.floor(now / 1000), req.body);
  try {
    const res = await fetch(req.url, {
      method: "POST",
      body: req.body,
      redirect: "manual",
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      headers: {
        "Content-Type": "application/json",
        "User-Agent": `edgeswarm-webhooks/${EDGESWARM_VERSION}`,
        [WEBHOOK_HEADERS.signature]: signature,
        [WEBHOOK_HEADERS.delivery]: req.deliveryId,
        [WEBHOOK_HEADERS.event]: req.type,
        [WEBHOOK_HEADERS.attempt]: String(req.attempt),
        ...(req.trace ? { traceparent: req.trace.traceparent } : {}),
        ...(req.trace?.tracestate ? { tracestate: req.trace.tracestate } : {}),
      },
    });
    await res.body?.cancel().catch(() => {});
    return { kind: "answered", status: res.status, retryAfterMs: parseRetryAfter(res.headers.get("Retry-After"), now) };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    const message = timedOut ? `no answer within ${ATTEMPT_TIMEOUT_MS} ms` : String(err).slice(0, 500);
    return { kind: "network", message };
  }
}
