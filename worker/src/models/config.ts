import type { Provider, RoleModel } from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { ApiError } from "../http/api-error.ts";
import type { ModelConfig } from "./model.ts";

/** A role's model as stored in the run: what was asked for, with no secret. */
export interface StoredModel {
  provider: Provider;
  model: string;
  /** The base URL the request gave; null means the Worker's configured one. */
  baseUrl: string | null;
}

const VARS = {
  anthropic: { key: "ANTHROPIC_API_KEY", url: "ANTHROPIC_BASE_URL" },
  openai: { key: "OPENAI_API_KEY", url: "OPENAI_BASE_URL" },
  "openai-compatible": { key: "OPENAI_API_KEY", url: "OPENAI_BASE_URL" },
} as const;

/**
 * Checks, when a run is created, that a role's model can be reached, and
 * answers 422 `model_not_configured` naming the variable to set if not.
 */
export function checkConfigured(role: "planner" | "coder", model: StoredModel, env: Env): void {
  const vars = VARS[model.provider];
  if (model.provider === "openai-compatible") {
    if (model.baseUrl || env[vars.url]) return;
    throw new ApiError(
      422,
      "model_not_configured",
      `the ${role} uses an openai-compatible server but none is configured: give ${role}.baseUrl or set ${vars.url}`,
    );
  }
  if (model.baseUrl || env[vars.key] || env[vars.url]) return;
  throw new ApiError(
    422,
    "model_not_configured",
    `the ${role} uses ${model.provider} but no key is configured: set ${vars.key} (or ${vars.url}, or give ${role}.baseUrl)`,
  );
}

/**
 * The full config for a call. A base URL the request gave never receives the
 * Worker's own API key: otherwise any caller could point a run at a server of
 * theirs and read the key from the request.
 */
export function resolveModel(model: StoredModel, env: Env): ModelConfig {
  const vars = VARS[model.provider];
  if (model.baseUrl) return { provider: model.provider, model: model.model, baseUrl: model.baseUrl };
  return {
    provider: model.provider,
    model: model.model,
    baseUrl: env[vars.url] || undefined,
    apiKey: env[vars.key] || undefined,
  };
}

/** Each provider's default model; an openai-compatible server has none, so the request names it. */
const DEFAULT_MODELS: Partial<Record<Provider, string>> = { anthropic: "claude-sonnet-4-5", openai: "o3-mini" };

/** The model a role uses: the request's choice, else the role's default provider and model. */
export function storedModel(asked: RoleModel | undefined, fallback: Provider): StoredModel {
  const provider = asked?.provider ?? fallback;
  const model = asked?.model ?? DEFAULT_MODELS[provider];
  if (!model) throw new ApiError(400, "invalid_request", `name the model to use with provider ${provider}`);
  return { provider, model, baseUrl: asked?.baseUrl ?? null };
}
