import type { RunEvent } from "@edgeswarm/shared";

/**
 * One run_code call a run is waiting on, as its `approval.requested` event
 * gave it: the code and the files it writes into the workspace first (both
 * run, so both are what is approved).
 */
export interface WaitingCall {
  toolCallId: string;
  /** The plan step, from 0 as the API counts. */
  step: number;
  language: string;
  code: string;
  files: { path: string; content: string }[];
}

/**
 * Folds a run's events into the calls still waiting for a decision: each
 * `approval.requested` adds one, its `approval.decided` removes it, and
 * `run.finished` leaves none (a cancelled run decides nothing). A reply with
 * several run_code calls asks about each; the run waits until all are decided.
 * @example
 * const waiting = new WaitingCalls();
 * for (const e of events) waiting.add(e);
 * waiting.list().map((c) => c.toolCallId); // ["call_1", "call_2"]
 */
export class WaitingCalls {
  readonly #calls = new Map<string, WaitingCall>();

  /** Takes in one event; returns whether the waiting calls changed. */
  add(e: RunEvent): boolean {
    switch (e.type) {
      case "approval.requested": {
        const { toolCallId, step, language, code, files } = e.payload;
        this.#calls.set(toolCallId, { toolCallId, step, language, code, files: files ?? [] });
        return true;
      }
      case "approval.decided":
        return this.#calls.delete(e.payload.toolCallId);
      case "run.finished": {
        const had = this.#calls.size > 0;
        this.#calls.clear();
        return had;
      }
      default:
        return false;
    }
  }

  /** The waiting calls, in the order they were asked about. */
  list(): WaitingCall[] {
    return [...this.#calls.values()];
  }

  get size(): number {
    return this.#calls.size;
  }
}

/** The calls still waiting for a decision after `events` (a run's log, in order). */
export function waitingCalls(events: Iterable<RunEvent>): WaitingCall[] {
  const waiting = new WaitingCalls();
  for (const e of events) waiting.add(e);
  return waiting.list();
}
