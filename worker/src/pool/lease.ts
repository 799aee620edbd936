import type { ExecFile, ExecFinished, ExecOutput, Limits } from "@edgeswarm/shared";
import { LeaseBounds } from "./bounds.ts";

/**
 * One execution leased to one agent connection: whether the agent took it,
 * the order and flow-control window of the frames it sends for it, and the
 * limits those frames are held to.
 */
export class Lease {
  readonly connId: string;
  readonly agentId: string;
  readonly bounds: LeaseBounds;
  acked = false;
  /** Until exec.accepted; then until the execution's own timeout and grace. */
  timer: ReturnType<typeof setTimeout>;
  /** The seq the next frame from the agent must carry. */
  #nextSeq = 0;
  /** Characters of window the agent may still spend: it may overdraw by one frame, never more. */
  #window: number;

  constructor(options: {
    connId: string;
    agentId: string;
    limits: Limits;
    window: number;
    timer: ReturnType<typeof setTimeout>;
  }) {
    this.connId = options.connId;
    this.agentId = options.agentId;
    this.bounds = new LeaseBounds(options.limits);
    this.#window = options.window;
    this.timer = options.timer;
  }

  /**
   * Takes a frame of `chars` characters in its place: a protocol offence if
   * it comes before exec.accepted or out of order, "overdrawn" if it is
   * output the window had no room for, else nothing (its window spent).
   */
  take(frame: ExecOutput | ExecFile | ExecFinished, chars: number): { offence: string } | "overdrawn" | undefined {
    if (!this.acked) return { offence: `execution ${frame.executionId}: ${frame.type} before exec.accepted` };
    if (frame.seq !== this.#nextSeq) {
      return { offence: `execution ${frame.executionId}: expected seq ${this.#nextSeq}, got ${frame.seq}` };
    }
    this.#nextSeq++;
    if (frame.type === "exec.finished") return undefined;
    // Window is spent only while there is some: an agent that sends on without it would
    // have the pool hold what its caller has not taken, without bound.
    if (this.#window <= 0) return "overdrawn";
    this.#window -= chars;
    return undefined;
  }

  /** The caller took `chars` of events: the agent may send that much more. */
  credit(chars: number): void {
    this.#window += chars;
  }
}
