import { Name } from "@edgeswarm/shared";
import { z } from "zod";
import type { Env } from "../env.ts";
import { ApiError } from "../http/api-error.ts";

/** A signing secret: long enough that guessing it is hopeless, short enough to paste. */
const Secret = z
  .string()
  .min(16, { message: "webhook secrets must have at least 16 characters" })
  .max(512, { message: "webhook secrets must have at most 512 characters" });
const Secrets = z.record(Name, Secret);

// Parsed once per isolate and configuration text, as auth.ts does for API keys.
const cache = new Map<string, Map<string, string>>();

function secrets(raw: string | undefined): Map<string, string> {
  const text = raw ?? "{}";
  const cached = cache.get(text);
  if (cached) return cached;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(503, "misconfigured", "EDGESWARM_WEBHOOK_SECRETS is not valid JSON");
  }
  const parsed = Secrets.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(503, "misconfigured", `EDGESWARM_WEBHOOK_SECRETS is invalid: ${z.prettifyError(parsed.error)}`);
  }
  const map = new Map(Object.entries(parsed.data));
  cache.set(text, map);
  return map;
}

/**
 * The secret that signs `tenant`'s webhooks (EDGESWARM_WEBHOOK_SECRETS), or
 * null. One per tenant, so no tenant can sign a request another tenant's
 * receiver would accept.
 */
export function webhookSecret(env: Env, tenant: string): string | null {
  return secrets(env.EDGESWARM_WEBHOOK_SECRETS).get(tenant) ?? null;
}

/**
 * Refuses, when a run is created, a `webhookUrl` that could only get unsigned
 * deliveries: 422 `webhook_not_configured`, naming the variable to set.
 */
export function checkWebhookConfigured(env: Env, tenant: string): void {
  if (webhookSecret(env, tenant)) return;
  throw new ApiError(
    422,
    "webhook_not_configured",
    `webhookUrl needs a signing secret for tenant '${tenant}': set it in EDGESWARM_WEBHOOK_SECRETS`,
  );
}
