import type { ModelRef, Provider, RoleModel } from "@edgeswarm/shared";
import type { Config, ProviderAccess, TenantLimits } from "../config.ts";
import { EdgeswarmError } from "../errors.ts";
import type { ModelConfig } from "./model.ts";

const VARS = {
  anthropic: { key: "ANTHROPIC_API_KEY", url: "ANTHROPIC_BASE_URL" },
  openai: { key: "OPENAI_API_KEY", url: "OPENAI_BASE_URL" },
  "openai-compatible": { key: "OPENAI_API_KEY", url: "OPENAI_BASE_URL" },
} as const;

function access(provider: Provider, config: Config): ProviderAccess {
  return provider === "anthropic" ? config.models.anthropic : config.models.openai;
}

/**
 * Checks, when a run is created, that a role's model can be reached, and
 * raises `model_not_configured` naming the variable to set if not.
 */
export function checkConfigured(role: string, model: ModelRef, config: Config): void {
  const vars = VARS[model.provider];
  const configured = access(model.provider, config);
  if (model.provider === "openai-compatible") {
    if (model.baseUrl || configured.baseUrl) return;
    throw new EdgeswarmError(
      "model_not_configured",
      `the ${role} uses an openai-compatible server but none is configured: give ${role}.baseUrl or set ${vars.url}`,
    );
  }
  if (model.baseUrl || configured.apiKey || configured.baseUrl) return;
  throw new EdgeswarmError(
    "model_not_configured",
    `the ${role} uses ${model.provider} but no key is configured: set ${vars.key} (or ${vars.url}, or give ${role}.baseUrl)`,
  );
}

/** Whether `model` matches one of `patterns`: a name exactly, or a prefix that ends in `*`. */
export function modelAllowed(model: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith("*") ? model.startsWith(p.slice(0, -1)) : model === p));
}

/**
 * Refuses, with `model_not_allowed`, a model the tenant may not use on the
 * operator's keys (its `models` quota). A model on a base URL the request gave
 * costs the operator nothing, since it never receives the Worker's keys.
 */
export function checkModelAllowed(role: string, model: ModelRef, limits: TenantLimits): void {
  if (model.baseUrl !== null || modelAllowed(model.model, limits.models)) return;
  throw new EdgeswarmError(
    "model_not_allowed",
    `the ${role}'s model '${model.model}' is not one this tenant may use (allowed: ${limits.models.join(", ") || "none"})`,
    { details: { role, model: model.model, allowed: [...limits.models] } },
  );
}

/**
 * The full config for a call. A base URL the request gave never receives the
 * Worker's own API key: otherwise any caller could point a run at a server of
 * theirs and read the key from the request.
 */
export function resolveModel(model: ModelRef, config: Config): ModelConfig {
  if (model.baseUrl) return { provider: model.provider, model: model.model, baseUrl: model.baseUrl };
  const configured = access(model.provider, config);
  return { provider: model.provider, model: model.model, baseUrl: configured.baseUrl, apiKey: configured.apiKey };
}

/** Each provider's default model; an openai-compatible server has none, so the request names it. */
const DEFAULT_MODELS: Partial<Record<Provider, string>> = { anthropic: "claude-sonnet-4-6", openai: "o3-mini" };

/** The model a role uses: the request's choice, else the role's default provider and model. */
export function storedModel(asked: RoleModel | undefined, fallback: Provider): ModelRef {
  const provider = asked?.provider ?? fallback;
  const model = asked?.model ?? DEFAULT_MODELS[provider];
  if (!model) throw new EdgeswarmError("invalid_request", `name the model to use with provider ${provider}`);
  return { provider, model, baseUrl: asked?.baseUrl ?? null };
}
