import { z } from "zod";
import { FileSize, RunView } from "./runs.ts";
import { StopCondition } from "./teams.ts";

/**
 * The webhook a run sends when it ends: one delivery per run, POSTed to its
 * `webhookUrl`, signed with the tenant's secret. The receiver's side of the
 * contract (headers, signature, body) is defined here once.
 */

/** Delivery ids: `whd_` and 24 lowercase hex digits; the same on every retry. */
export const WebhookDeliveryId = z.string().regex(/^whd_[0-9a-f]{24}$/);
export type WebhookDeliveryId = z.infer<typeof WebhookDeliveryId>;

export function newWebhookDeliveryId(): WebhookDeliveryId {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `whd_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** One event type per terminal run status. */
export const WEBHOOK_EVENT_TYPES = ["run.succeeded", "run.failed", "run.cancelled", "run.timed_out"] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** The request headers of a delivery (HTTP header names are case-insensitive). */
export const WEBHOOK_HEADERS = {
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
  signature: "Edgeswarm-Signature",
  delivery: "Edgeswarm-Delivery",
  event: "Edgeswarm-Event",
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: "Edgeswarm-Attempt",
} as const;

/** The most bytes a delivery's body has; longer runs are cut (see `truncated`). */
export const WEBHOOK_MAX_BODY_BYTES = 256 * 1024;

/** A result file in a webhook: its path and size, never its content (GET the run for that). */
export const WebhookFile = FileSize;
export type WebhookFile = FileSize;

/** The run in a webhook: `GET /v1/runs/:id` without file contents and without the delivery's own status. */
export const WebhookRun = RunView.omit({ webhook: true, result: true }).extend({
  result: z
    .object({
      summary: z.string(),
      code: z.string(),
      stdout: z.string(),
      files: z.array(WebhookFile),
      /** A team's run: what ended it, as in the run's view. */
      stoppedBy: z.array(StopCondition).nullable(),
    })
    .nullable(),
});
export type WebhookRun = z.infer<typeof WebhookRun>;

/** The JSON body of a delivery. */
export const WebhookPayload = z.object({
  id: WebhookDeliveryId,
  type: WebhookEventType,
  /** When the run ended and the delivery was made (ISO 8601). */
  createdAt: z.string(),
  /**
   * True when long text fields (or, failing that, the plan, the file list and
   * the metadata) were cut to keep the body under WEBHOOK_MAX_BODY_BYTES.
   */
  truncated: z.boolean(),
  run: WebhookRun,
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;
