import { type ErrorCode, errorBody } from "@edgeswarm/shared";
import { EdgeswarmError, type Json } from "../errors.ts";

/**
 * The HTTP status of every error code, in one table: domain code raises a
 * code, and only this edge picks the status. Codes that describe how an
 * execution ended (they travel inside results, not as answers) map to 502 in
 * case one ever surfaces as an answer.
 */
export const STATUS_OF: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  model_not_allowed: 403,
  not_found: 404,
  invalid_state: 409,
  payload_too_large: 413,
  language_unavailable: 422,
  model_not_configured: 422,
  webhook_not_configured: 422,
  upgrade_required: 426,
  queue_full: 429,
  quota_exceeded: 429,
  internal_error: 500,
  agent_lost: 502,
  agent_busy: 502,
  sandbox_error: 502,
  execution_lost: 502,
  client_too_slow: 502,
  bad_frame: 502,
  files_truncated: 502,
  unknown_execution: 502,
  no_capacity: 503,
  no_agents: 503,
  pool_unavailable: 503,
  misconfigured: 503,
};

/** The JSON error answer for `err`, with its status and any Retry-After. */
export function errorResponse(err: EdgeswarmError): Response {
  const headers: Record<string, string> = {};
  if (err.retryAfterS !== undefined) headers["Retry-After"] = String(Math.max(0, Math.ceil(err.retryAfterS)));
  return Response.json(errorBody(err.code, err.message, err.details), { status: STATUS_OF[err.code], headers });
}

/** Shorthand for answering a code and message directly (routes outside the domain, e.g. 404s). */
export function errorAnswer(code: ErrorCode, message: string, options: { details?: Json } = {}): Response {
  return errorResponse(new EdgeswarmError(code, message, options));
}
