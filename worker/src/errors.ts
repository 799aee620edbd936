import type { ErrorCode, ErrorDetails } from "@edgeswarm/shared";

/** What an error's details may hold (see ErrorDetails in shared/). */
export type Json = ErrorDetails;

/** An error as it crosses a boundary (an RPC answer, a stored event). */
export interface ErrorInfoOut {
  code: ErrorCode;
  message: string;
  details?: Json;
  /** Seconds to wait before retrying, when the caller may. */
  retryAfterS?: number;
}

/**
 * The one error class of the Worker's domain code: a stable code, a message
 * for the caller, optional details, and how long to wait before a retry.
 * Domain modules raise it; only the HTTP edge (http/status.ts) decides which
 * status a code answers with.
 *
 * @example
 *   throw new EdgeswarmError("quota_exceeded", "tenant 'acme' has 8 runs going, its most",
 *     { details: { quota: "activeRuns", limit: 8 }, retryAfterS: 5 });
 */
export class EdgeswarmError extends Error {
  override name = "EdgeswarmError";
  readonly code: ErrorCode;
  readonly details: Json | undefined;
  /** Seconds a caller should wait before trying again (the Retry-After header), when it may. */
  readonly retryAfterS: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Json | undefined; retryAfterS?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.retryAfterS = options.retryAfterS;
  }

  /** The `{code, message, details?}` that crosses a boundary (RPC answers, events). */
  toInfo(): ErrorInfoOut {
    return {
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.retryAfterS === undefined ? {} : { retryAfterS: this.retryAfterS }),
    };
  }

  /** Rebuilds an error that crossed an RPC boundary as `toInfo()`. */
  static fromInfo(info: ErrorInfoOut): EdgeswarmError {
    return new EdgeswarmError(info.code, info.message, { details: info.details, retryAfterS: info.retryAfterS });
  }
}

/** A domain answer that crosses an RPC boundary: the value, or the error that explains its absence. */
export type Answer<T> = { ok: true; value: T } | { ok: false; error: ErrorInfoOut };

/** The value of an answer, or its error thrown as an EdgeswarmError. */
export function unwrap<T>(answer: Answer<T>): T {
  if (answer.ok) return answer.value;
  throw EdgeswarmError.fromInfo(answer.error);
}

/** An answer carrying `err`. */
export function refusal(err: EdgeswarmError): { ok: false; error: ErrorInfoOut } {
  return { ok: false, error: err.toInfo() };
}
