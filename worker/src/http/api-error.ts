import { type ErrorCode, errorBody } from "@edgeswarm/shared";

/**
 * An error the API answers with its own status and `{error: {code, message}}`
 * body. Thrown anywhere in a handler; `app.onError` turns it into the answer.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options: { details?: unknown; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

/** The JSON error answer for `code`; used by ApiError and by the Durable Objects. */
export function errorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  options: { details?: unknown; headers?: Record<string, string> } = {},
): Response {
  return Response.json(errorBody(code, message, options.details), {
    status,
    headers: options.headers,
  });
}

export function apiErrorResponse(err: ApiError): Response {
  return errorResponse(err.status, err.code, err.message, { details: err.details, headers: err.headers });
}
