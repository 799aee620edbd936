import { z } from "zod";

/** Pool names and agent ids: short, URL- and label-safe. */
export const Name = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/i, { message: "must be letters, digits, '.', '_' or '-'" });

/** Execution ids: `ex_` and 24 lowercase hex digits. */
export const ExecutionId = z.string().regex(/^ex_[0-9a-f]{24}$/);
export type ExecutionId = z.infer<typeof ExecutionId>;

/** A new random execution id (Web Crypto: works in Workers, Node and browsers). */
export function newExecutionId(): ExecutionId {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `ex_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
