import { z } from "zod";

/** Who serves a role's model, and how a run names it: asked for, and as stored. */

export const PROVIDERS = ["anthropic", "openai", "openai-compatible"] as const;
export const Provider = z.enum(PROVIDERS);
export type Provider = z.infer<typeof Provider>;

/** A role's model: the provider, the model name, and an optional base URL. */
export const RoleModel = z
  .object({
    provider: Provider,
    model: z.string().min(1).max(200).optional(),
    baseUrl: z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
      .max(2048)
      .optional(),
  })
  .strict();
export type RoleModel = z.infer<typeof RoleModel>;

/** A role's model as a run stores it: what was asked for, with no secret. */
export const ModelRef = z.object({
  provider: Provider,
  model: z.string(),
  /** The base URL the request gave; null means the Worker's configured one. */
  baseUrl: z.string().nullable(),
});
export type ModelRef = z.infer<typeof ModelRef>;
