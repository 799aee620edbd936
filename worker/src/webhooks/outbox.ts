import {
  newWebhookDeliveryId,
  type RunView,
  type TraceCarrier,
  WebhookEventType,
  type WebhookStatus,
} from "@edgeswarm/shared";
import { loadConfig, WEBHOOK_RETRY_BASE_DEFAULT_MS } from "../config.ts";
import type { Env } from "../env.ts";
import { attemptDelivery } from "./attempt.ts";
import { webhookBody } from "./payload.ts";
import { ATTEMPT_TIMEOUT_MS, verdict } from "./policy.ts";
import { DeliveryStore } from "./store.ts";

/** Past an attempt's own timeout, when the alarm takes it for lost (its object died during it). */
const WATCHDOG_MARGIN_MS = 5_000;

/**
 * A run's outgoing webhook: made once when the run ends, then attempted from
 * the RunDO's alarm until it is delivered or its retries end. The run itself
 * never waits for it; everything it needs is in storage, so a restart picks it
 * up where it was.
 */
export class WebhookOutbox {
  readonly #store: DeliveryStore;
  readonly #env: Env;
  /** True while this instance makes an attempt. */
  #sending = false;

  constructor(sql: SqlStorage, env: Env) {
    this.#store = new DeliveryStore(sql);
    this.#env = env;
  }

  /**
   * Makes the run's delivery, due now. Call it in the same synchronous turn as
   * the terminal event's append, so both are stored together. A second call
   * changes nothing: a run has one delivery.
   */
  enqueue(url: string, view: RunView, endedAt: string): boolean {
    return this.#store.create(this.#delivery(url, view, endedAt));
  }

  /**
   * The delivery for a later end of a run that was continued: it takes the
   * place of the earlier one, which, if still pending, is not sent (the
   * receiver learns the run's newest end).
   */
  replace(url: string, view: RunView, endedAt: string): void {
    this.#store.replace(this.#delivery(url, view, endedAt));
  }

  #delivery(url: string, view: RunView, endedAt: string) {
    const id = newWebhookDeliveryId();
    const type = WebhookEventType.parse(`run.${view.status}`); // throws for a run not ended: a bug
    const body = webhookBody({ id, type, createdAt: endedAt, view });
    return { id, url, type, body, createdAt: endedAt, nextAt: Date.now() };
  }

  /** When the alarm should next fire for the delivery; null when none is pending. */
  nextAt(): number | null {
    const d = this.#store.get();
    return d?.state === "pending" ? d.nextAt : null;
  }

  status(): WebhookStatus | null {
    const d = this.#store.get();
    if (!d) return null;
    return {
      deliveryId: d.id,
      state: d.state,
      attempts: d.attempts,
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      nextAttemptAt: d.state === "pending" && d.nextAt !== null ? new Date(d.nextAt).toISOString() : null,
    };
  }

  /**
   * Makes one attempt if one is due, signing with `tenant`'s secret. Before it,
   * `armWatchdog` is given the time at which the attempt counts as lost.
   */
  async deliverDue(tenant: string, armWatchdog: (at: number) => Promise<void>, trace?: TraceCarrier): Promise<void> {
    const d = this.#store.get();
    if (this.#sending || !d || d.state !== "pending" || d.nextAt === null || d.nextAt > Date.now()) return;
    this.#sending = true;
    try {
      const watchdogAt = Date.now() + ATTEMPT_TIMEOUT_MS + WATCHDOG_MARGIN_MS;
      const attempt = this.#store.begin(watchdogAt);
      await armWatchdog(watchdogAt);
      let secret: string | null = null;
      let retryBase: number | undefined;
      let problem = `no signing secret for tenant '${tenant}' in EDGESWARM_WEBHOOK_SECRETS`;
      try {
        const config = await loadConfig(this.#env);
        secret = config.webhookSecret(tenant);
        retryBase = config.webhookRetryBaseMs;
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      // A secret removed or broken since the run began: nothing is sent unsigned; retried
      // like a network error, in case the operator puts it back.
      const result = secret
        ? await attemptDelivery({ url: d.url, body: d.body, deliveryId: d.id, type: d.type, attempt, secret, trace })
        : ({ kind: "network", message: problem } as const);
      const next = verdict(result, attempt, retryBase ?? WEBHOOK_RETRY_BASE_DEFAULT_MS);
      const lastStatus = result.kind === "answered" ? result.status : null;
      const lastError =
        result.kind === "network"
          ? result.message
          : next.kind === "delivered"
            ? null
            : `answered HTTP ${result.status}`;
      this.#store.settle(d.id, {
        state: next.kind === "retry" ? "pending" : next.kind,
        nextAt: next.kind === "retry" ? Date.now() + next.delayMs : null,
        lastStatus,
        lastError,
      });
    } finally {
      this.#sending = false;
    }
  }
}
