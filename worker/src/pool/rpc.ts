import { ExecutionId, ExecutionSpec, type FileEncoding, Name, TraceCarrier } from "@edgeswarm/shared";
import { z } from "zod";

/**
 * The PoolDO's RPC contract, shared by the object and its one client
 * (client.ts). Internal, but still parsed on arrival: the object trusts no
 * shape it did not check.
 */

/** The tenant an execution is for, with the quotas the pool holds it to. */
export const TenantRef = z.object({
  id: Name,
  concurrentExecutions: z.number().int().min(1),
  queuedExecutions: z.number().int().min(0),
});
export type TenantRef = z.infer<typeof TenantRef>;

export const ExecuteInput = z.object({
  id: ExecutionId,
  tenant: TenantRef,
  spec: ExecutionSpec,
  /** How long it may wait in the queue for a slot; 0: answer at once. */
  queueTimeoutMs: z.number().int().min(0),
  /** The most entries the pool's queue holds (EDGESWARM_QUEUE_MAX). */
  queueMax: z.number().int().min(1),
  /** The span the pool's spans are children of: the request's, or the run's execute_tool span. */
  trace: TraceCarrier.optional(),
});
export type ExecuteInput = z.infer<typeof ExecuteInput>;

/**
 * What the pool tells an execution's caller while it waits and runs, in
 * order. Returned files come as pieces (`more` on all but a file's last), so
 * that no message, and no buffer in the pool, holds all of them at once.
 */
export type PoolEvent =
  | { type: "queued"; position: number }
  | { type: "started"; agentId: string }
  | { type: "stdout" | "stderr"; data: string }
  | { type: "file"; path: string; encoding: FileEncoding; data: string; more: boolean }
  /** Forget the pieces of this file: it passed a cap, or came broken. */
  | { type: "file_dropped"; path: string };

/**
 * The caller's side of an execution, passed to `PoolDO.execute` as an RPC
 * stub. The pool calls `deliver` with batches of events in order, one batch
 * at a time, and waits for each: a caller that is slow to take them makes the
 * pool hold them, up to a bound, and then cancel the execution
 * (`client_too_slow`). An empty batch is a keep-alive; a call that fails tells
 * the pool its caller is gone.
 */
export interface ExecutionSink {
  deliver(events: PoolEvent[]): Promise<void>;
}
