import { z } from "zod";

/**
 * Every error code the API or the wire protocol can return. Codes are stable:
 * clients branch on them, so add codes freely but never rename one.
 */
export const ERROR_CODES = [
  // caller errors
  "invalid_json",
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "payload_too_large",
  "language_unavailable",
  "upgrade_required",
  // capacity, quotas and the queue
  "no_capacity",
  "no_agents",
  "queue_full",
  "quota_exceeded",
  "model_not_allowed",
  // execution failures
  "agent_lost",
  "agent_busy",
  "sandbox_error",
  "execution_lost",
  "client_too_slow",
  // wire protocol
  "bad_frame",
  "files_truncated",
  "unknown_execution",
  // server side
  "model_not_configured",
  "webhook_not_configured",
  "invalid_state",
  "misconfigured",
  "pool_unavailable",
  "internal_error",
] as const;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/**
 * What an error's `details` may hold: for `invalid_request`, each field's path
 * and problem; otherwise a flat object (e.g. `{quota, limit}`). Plain data,
 * and not recursive, so that it crosses RPC as well as HTTP.
 */
export const ErrorDetails = z.union([
  z.array(z.object({ path: z.string(), message: z.string() })),
  z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())])),
]);
export type ErrorDetails = z.infer<typeof ErrorDetails>;

/** `{code, message, details?}`: the one shape every error takes on the wire. */
export const ErrorInfo = z.object({
  code: ErrorCode,
  message: z.string(),
  details: ErrorDetails.optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfo>;

/** The body of every non-2xx HTTP answer. */
export const ErrorBody = z.object({ error: ErrorInfo });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Builds an {@link ErrorBody}. */
export function errorBody(code: ErrorCode, message: string, details?: ErrorDetails): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}
