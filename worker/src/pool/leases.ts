import { type ExecutionOutcome, type ExecutionSummary, errorOutcome } from "@edgeswarm/shared";
import type { EventPump } from "./pump.ts";
import type { PoolEvent } from "./rpc.ts";

/**
 * One execution leased to one agent connection, with the pump that carries
 * its events to its caller. Lives in memory only: while a lease is open its
 * caller's RPC call is in flight, which keeps the Durable Object from being
 * evicted.
 */
export interface Lease {
  executionId: string;
  tenant: string;
  agentId: string;
  connId: string;
  /** The seq the next frame from the agent must carry. */
  nextSeq: number;
  pump: EventPump;
  /** Answers the caller's RPC call with the execution's summary. */
  settle(summary: ExecutionSummary): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Characters of a returned file per `file` event. */
export const FILE_PIECE_CHARS = 256 * 1024;

/** A file's content as `file` events of at most FILE_PIECE_CHARS, never splitting a surrogate pair. */
export function filePieces(path: string, encoding: "utf8" | "base64", content: string): PoolEvent[] {
  const pieces: PoolEvent[] = [];
  let start = 0;
  do {
    let end = Math.min(content.length, start + FILE_PIECE_CHARS);
    const last = content.charCodeAt(end - 1);
    if (end < content.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    pieces.push({ type: "file", path, encoding, data: content.slice(start, end), more: end < content.length });
    start = end;
  } while (start < content.length);
  return pieces;
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

  all(): IterableIterator<Lease> {
    return this.#leases.values();
  }

  forConnection(connId: string): Lease[] {
    return [...this.#leases.values()].filter((l) => l.connId === connId);
  }

  get size(): number {
    return this.#leases.size;
  }

  /**
   * Ends a lease with its outcome: its files go to the caller as events, then,
   * once the caller has every event, the call is answered with the summary.
   */
  finish(lease: Lease, outcome: ExecutionOutcome): void {
    if (this.#leases.get(lease.executionId) !== lease) return;
    this.#leases.delete(lease.executionId);
    if (lease.timer) clearTimeout(lease.timer);
    for (const file of outcome.files) {
      for (const piece of filePieces(file.path, file.encoding, file.content)) lease.pump.push(piece);
    }
    const summary: ExecutionSummary = { ...outcome, files: [], id: lease.executionId, agentId: lease.agentId };
    void lease.pump.drained().then(() => lease.settle(summary));
  }

  /**
   * Ends a lease at once, without waiting for the agent's report: the caller
   * cancelled, or is gone. What the pump holds is dropped.
   */
  drop(lease: Lease, outcome: ExecutionOutcome): void {
    if (this.#leases.get(lease.executionId) !== lease) return;
    this.#leases.delete(lease.executionId);
    if (lease.timer) clearTimeout(lease.timer);
    lease.pump.close();
    lease.settle({ ...outcome, files: [], id: lease.executionId, agentId: lease.agentId });
  }
}

/** An outcome for an execution that never reported its own. */
export function failedOutcome(
  code: "agent_lost" | "execution_lost" | "sandbox_error" | "client_too_slow",
  message: string,
): ExecutionOutcome {
  return errorOutcome(code, message);
}

/** The outcome of an execution its caller cancelled. */
export function cancelledOutcome(): ExecutionOutcome {
  return {
    status: "cancelled",
    exitCode: null,
    signal: null,
    durationMs: 0,
    truncated: { stdout: false, stderr: false },
    files: [],
  };
}
