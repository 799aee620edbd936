import type { Config } from "../config.ts";
import { EdgeswarmError } from "../errors.ts";

/**
 * Refuses, when a run is created, a `webhookUrl` that could only get unsigned
 * deliveries: `webhook_not_configured`, naming the variable to set. One secret
 * per tenant (EDGESWARM_WEBHOOK_SECRETS), so no tenant can sign a request
 * another tenant's receiver would accept.
 */
export function checkWebhookConfigured(config: Config, tenant: string): void {
  if (config.webhookSecret(tenant)) return;
  throw new EdgeswarmError(
    "webhook_not_configured",
    `webhookUrl needs a signing secret for tenant '${tenant}': set it in EDGESWARM_WEBHOOK_SECRETS`,
  );
}
