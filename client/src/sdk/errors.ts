import { ErrorBody, type ErrorCode } from "@edgeswarm/shared";

/**
 * Codes the client itself raises, beside the API's own `ErrorCode`s:
 * `unreachable` (no HTTP answer at all: refused, reset, DNS, TLS) and
 * `invalid_response` (an answer that is not what the API contract says).
 */
export const CLIENT_ERROR_CODES = ["unreachable", "invalid_response"] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/**
 * Every error the SDK throws, except an abort (which rethrows the caller's
 * `AbortSignal` reason as is). Branch on `code`, which is stable.
 *
 * @example
 * try { await swarm.runs.get(id) } catch (err) {
 *   if (err instanceof EdgeswarmError && err.code === "not_found") ...
 * }
 */
export class EdgeswarmError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  /** The HTTP status, or null when no answer came. */
  readonly status: number | null;
  /** The API's `details` (for `invalid_request`: each field path and what is wrong). */
  readonly details: unknown;

  constructor(
    code: ErrorCode | ClientErrorCode,
    message: string,
    options: { status?: number | null; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "EdgeswarmError";
    this.code = code;
    this.status = options.status ?? null;
    this.details = options.details;
  }
}

/** An error answer of the API: a non-2xx status and its `{error: {code, message}}` body. */
export class EdgeswarmApiError extends EdgeswarmError {
  declare readonly code: ErrorCode;
  declare readonly status: number;
  /** Seconds from a `Retry-After` header (503 no_capacity, ...), when it had one. */
  readonly retryAfter: number | null;

  constructor(status: number, code: ErrorCode, message: string, details?: unknown, retryAfter: number | null = null) {
    super(code, message, { status, details });
    this.name = "EdgeswarmApiError";
    this.retryAfter = retryAfter;
  }
}

/** No answer from the API at all: the URL is wrong, or the server is down or unreachable. */
export class EdgeswarmUnreachableError extends EdgeswarmError {
  declare readonly code: "unreachable";

  constructor(url: string, cause: unknown) {
    const why = cause instanceof Error ? describeCause(cause) : String(cause);
    super("unreachable", `cannot reach ${url}: ${why}`, { cause });
    this.name = "EdgeswarmUnreachableError";
  }
}

// fetch's TypeError says only "fetch failed"; undici puts the reason (ECONNREFUSED, ...) in `cause`.
function describeCause(err: Error): string {
  const inner = err.cause;
  if (inner instanceof Error) {
    const code = (inner as { code?: unknown }).code;
    return typeof code === "string" ? `${code} (${inner.message})` : inner.message;
  }
  return err.message;
}

/** Turns a non-2xx answer into an {@link EdgeswarmApiError}, whatever its body holds. */
export async function errorFromResponse(res: Response): Promise<EdgeswarmApiError> {
  const text = await res.text().catch(() => "");
  const retryAfter = parseRetryAfter(res.headers.get("Retry-After"));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ErrorBody.safeParse(json);
  if (parsed.success) {
    const { code, message, details } = parsed.data.error;
    return new EdgeswarmApiError(res.status, code, message, details, retryAfter);
  }
  // Not our error body (a proxy's page, a gateway timeout): keep the status, say what came.
  const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new EdgeswarmApiError(
    res.status,
    fallbackCode(res.status),
    `HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`,
    undefined,
    retryAfter,
  );
}

function fallbackCode(status: number): ErrorCode {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 413) return "payload_too_large";
  if (status >= 400 && status < 500) return "invalid_request";
  return "internal_error";
}

function parseRetryAfter(header: string | null): number | null {
  if (!header) return null;
  const n = Number(header);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** Whether an error is the caller's abort (an AbortSignal), which the SDK passes through untouched. */
export function isAbort(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted && err === signal.reason) return true;
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}
