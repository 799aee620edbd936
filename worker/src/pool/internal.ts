import { ExecutionId, ExecutionRequest } from "@edgeswarm/shared";
import { z } from "zod";

/**
 * Requests between the Worker's routes and the PoolDO. Internal, but still
 * parsed on arrival: the DO trusts no shape it did not check.
 */
export const POOL_PATHS = {
  connect: "/connect",
  execute: "/execute",
  agents: "/agents",
} as const;

export const POOL_HEADER = "x-edgeswarm-pool";

export const ExecuteBody = z.object({ id: ExecutionId, request: ExecutionRequest });
export type ExecuteBody = z.infer<typeof ExecuteBody>;

/** A URL for a PoolDO stub's fetch; the host is never resolved. */
export function poolUrl(path: string): string {
  return `https://pool.internal${path}`;
}
