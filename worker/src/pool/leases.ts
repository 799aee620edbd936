import { type ExecutionEvent, type ExecutionOutcome, type ExecutionSummary, errorOutcome } from "@edgeswarm/shared";

/**
 * One execution leased to one agent connection, with the stream its caller
 * reads. Lives in memory only: while a lease is open its HTTP request is in
 * flight, which keeps the Durable Object from being evicted.
 */
export interface Lease {
  executionId: string;
  agentId: string;
  connId: string;
  /** The seq the next frame from the agent must carry. */
  nextSeq: number;
  emit(event: ExecutionEvent): void;
  close(): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The open leases of one pool, by execution id. */
export class LeaseTable {
  readonly #leases = new Map<string, Lease>();

  add(lease: Lease): void {
    this.#leases.set(lease.executionId, lease);
  }

  get(executionId: string): Lease | undefined {
    return this.#leases.get(executionId);
  }

  /** Executions in flight on one connection. */
  countFor(connId: string): number {
    let n = 0;
    for (const lease of this.#leases.values()) if (lease.connId === connId) n++;
    return n;
  }

  forConnection(connId: string): Lease[] {
    return [...this.#leases.values()].filter((l) => l.connId === connId);
  }

  get size(): number {
    return this.#leases.size;
  }

  /** Ends a lease with its outcome: emits `finished`, closes the stream, forgets it. */
  finish(lease: Lease, outcome: ExecutionOutcome): void {
    if (this.#leases.get(lease.executionId) !== lease) return;
    this.#leases.delete(lease.executionId);
    if (lease.timer) clearTimeout(lease.timer);
    const result: ExecutionSummary = { ...outcome, id: lease.executionId, agentId: lease.agentId };
    try {
      lease.emit({ type: "finished", result });
      lease.close();
    } catch {
      // The caller went away; nothing is waiting for the result.
    }
  }

  /** Forgets a lease without a result (its caller cancelled). */
  drop(lease: Lease): void {
    if (this.#leases.get(lease.executionId) !== lease) return;
    this.#leases.delete(lease.executionId);
    if (lease.timer) clearTimeout(lease.timer);
  }
}

/** An outcome for an execution that never reported its own. */
export function failedOutcome(
  code: "agent_lost" | "execution_lost" | "sandbox_error",
  message: string,
): ExecutionOutcome {
  return errorOutcome(code, message);
}
