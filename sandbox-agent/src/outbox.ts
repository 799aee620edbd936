import { type AgentFrame, MAX_AGENT_FRAME_CHARS } from "@edgeswarm/shared";

/** Frames of an execution waiting for window, in characters, before its sandbox's output is held. */
export const HOLD_ABOVE_CHARS = 1024 * 1024;
/** ... and the backlog under which the sandbox may go on. */
export const RELEASE_BELOW_CHARS = 256 * 1024;

/**
 * One execution's frames to the Worker, in order, under the flow control of
 * the wire protocol (wire.ts): exec.output and exec.file frames go while the
 * window is above zero, each spending its length, and the rest wait for
 * exec.credit. exec.finished needs no window but keeps its place behind them.
 * Pieces of returned files are made only as the window lets them go
 * (`pipe`), so the outbox holds at most one of them at a time.
 *
 * `held` tells the sandbox to stop producing while the backlog is large; the
 * runtime pauses the container's output stream, and the program waits.
 */
type Frame = { kind: "frame"; text: string; spends: boolean };
type Item = Frame | { kind: "pipe"; frames: Iterator<AgentFrame> };

export class Outbox {
  readonly #transmit: (text: string) => void;
  #window: number;
  /** Frames, and pipes of frames still to be made, in the order they go. */
  #items: Item[] = [];
  #queuedChars = 0;
  #held = false;
  #closed = false;
  #ended = false;
  readonly #done = Promise.withResolvers<void>();
  /** Called when `held` changes. */
  onHold: (held: boolean) => void = () => {};
  /**
   * Gives the frame that goes instead of one over the protocol's maximum
   * (an exec.finished that fails the execution); nothing after it is sent.
   */
  onOversize: (frame: AgentFrame, chars: number) => AgentFrame = (frame) => frame;

  constructor(window: number, transmit: (text: string) => void) {
    this.#window = window;
    this.#transmit = transmit;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Characters of made frames waiting for window. */
  get backlog(): number {
    return this.#queuedChars;
  }

  /** Queues or sends one frame (see onOversize for one over the protocol's maximum). */
  send(frame: AgentFrame): void {
    if (this.#closed) return;
    this.#items.push(this.#measure(frame));
    this.#queuedChars += (this.#items.at(-1) as Frame).text.length;
    this.#flush();
  }

  /**
   * Sends the frames of `frames` in turn, in order with everything else, each
   * made only once the window is open for it (so a returned file is not turned
   * into pieces any earlier than it can go).
   */
  pipe(frames: Iterable<AgentFrame>): void {
    if (this.#closed) return;
    this.#items.push({ kind: "pipe", frames: frames[Symbol.iterator]() });
    this.#flush();
  }

  /** No frames will follow those already given; `done` resolves once they have all gone. */
  end(): void {
    this.#ended = true;
    this.#flush();
  }

  /** Resolves once the outbox is ended and empty, or closed. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** The Worker gave `chars` more window. */
  credit(chars: number): void {
    this.#window += chars;
    this.#flush();
  }

  /** Drops what waits: the execution's caller is gone. */
  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#queuedChars = 0;
    this.#setHeld(false);
    this.#done.resolve();
  }

  #flush(): void {
    for (let head = this.#items[0]; head; head = this.#items[0]) {
      if (head.kind === "frame") {
        if (head.spends && this.#window <= 0) break;
        this.#items.shift();
        this.#queuedChars -= head.text.length;
        if (head.spends) this.#window -= head.text.length;
        this.#transmit(head.text);
        continue;
      }
      if (this.#window <= 0) break;
      const next = head.frames.next();
      if (next.done) {
        this.#items.shift();
        continue;
      }
      const item = this.#measure(next.value);
      if (this.#closed) this.#items = []; // it was over the maximum: nothing after it goes
      this.#items.unshift(item);
      this.#queuedChars += item.text.length;
    }
    this.#setHeld(this.#queuedChars > HOLD_ABOVE_CHARS || (this.#held && this.#queuedChars > RELEASE_BELOW_CHARS));
    if (this.#items.length === 0 && (this.#ended || this.#closed)) this.#done.resolve();
  }

  /**
   * A frame as text, measured before it is sent. One over the maximum is
   * replaced by onOversize's frame, and everything after it is dropped.
   */
  #measure(frame: AgentFrame): Frame {
    let sent = frame;
    let text = JSON.stringify(frame);
    if (text.length > MAX_AGENT_FRAME_CHARS) {
      sent = this.onOversize(frame, text.length);
      text = JSON.stringify(sent);
      this.#closed = true;
    }
    return { kind: "frame", text, spends: sent.type === "exec.output" || sent.type === "exec.file" };
  }

  #setHeld(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    this.onHold(held);
  }
}
