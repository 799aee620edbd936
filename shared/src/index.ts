/**
 * @edgeswarm/shared: the protocol. Every message that crosses a boundary (HTTP
 * bodies, agent wire frames) is defined here once as a zod schema; the types
 * are inferred from it.
 */

export * from "./api.ts";
export * from "./backoff.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./ids.ts";
export * from "./limits.ts";
export * from "./models.ts";
export * from "./otel.ts";
export * from "./runs.ts";
export * from "./stats.ts";
export * from "./teams.ts";
export * from "./trace.ts";
export * from "./version.ts";
export * from "./webhooks.ts";
export * from "./wire.ts";
export * from "./worker-variables.ts";
