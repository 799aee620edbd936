import {
  type RunView,
  WEBHOOK_MAX_BODY_BYTES,
  type WebhookEventType,
  type WebhookPayload,
  type WebhookRun,
} from "@edgeswarm/shared";

/** Characters each long text field keeps when the full body would be too big. */
const CLIPPED_CHARS = 4096;
/** …and when even that is too big (then the plan, files and metadata go too). */
const MINIMAL_CHARS = 1024;

function clip(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars)}…(${text.length - chars} characters cut)`;
}

/** The run without file contents or the delivery's own status. */
function fullRun(view: RunView): WebhookRun {
  const { webhook: _, result, ...rest } = view;
  return {
    ...rest,
    result: result && {
      summary: result.summary,
      code: result.code,
      stdout: result.stdout,
      files: result.manifest,
      stoppedBy: result.stoppedBy,
    },
  };
}

function clippedRun(run: WebhookRun, chars: number, minimal: boolean): WebhookRun {
  return {
    ...run,
    task: clip(run.task, chars),
    plan: minimal
      ? null
      : (run.plan?.map((s) => ({ goal: clip(s.goal, chars), successCriterion: clip(s.successCriterion, chars) })) ??
        null),
    result: run.result && {
      summary: clip(run.result.summary, chars),
      code: clip(run.result.code, chars),
      stdout: clip(run.result.stdout, chars),
      files: minimal ? [] : run.result.files,
      stoppedBy: run.result.stoppedBy,
    },
    error: run.error && { reason: run.error.reason, message: clip(run.error.message, chars) },
    metadata: minimal ? null : run.metadata,
  };
}

const bytes = (text: string) => new TextEncoder().encode(text).length;

/**
 * The JSON body of a run's delivery, at most WEBHOOK_MAX_BODY_BYTES: the run
 * as `GET /v1/runs/:id` shows it, with file sizes instead of contents; if that
 * is too big, long text fields cut to 4 KiB characters; if still too big, cut
 * to 1 KiB and without the plan, the file list and the metadata.
 *
 * @example
 * const body = webhookBody({ id: newWebhookDeliveryId(), type: "run.succeeded", createdAt, view });
 */
export function webhookBody(input: { id: string; type: WebhookEventType; createdAt: string; view: RunView }): string {
  const run = fullRun(input.view);
  const make = (r: WebhookRun, truncated: boolean): string =>
    JSON.stringify({
      id: input.id,
      type: input.type,
      createdAt: input.createdAt,
      truncated,
      run: r,
    } satisfies WebhookPayload);
  const full = make(run, false);
  if (bytes(full) <= WEBHOOK_MAX_BODY_BYTES) return full;
  const clipped = make(clippedRun(run, CLIPPED_CHARS, false), true);
  if (bytes(clipped) <= WEBHOOK_MAX_BODY_BYTES) return clipped;
  // Every field left is bounded (1 KiB texts, ids, timestamps, usage): this always fits.
  return make(clippedRun(run, MINIMAL_CHARS, true), true);
}
