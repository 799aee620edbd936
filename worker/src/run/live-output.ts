import { LIVE_OUTPUT_CHARS } from "@edgeswarm/shared";

export type Stream = "stdout" | "stderr";

/** One coalesced piece of output, as `execution.output` carries it. */
export interface OutputPiece {
  stream: Stream;
  data: string;
  /** The log keeps nothing after this piece: the execution passed the cap. */
  cut?: true;
}

/** How long output gathers before it is appended. */
export const LIVE_OUTPUT_INTERVAL_MS = 100;

/**
 * Gathers one execution's output as it arrives and hands it on in pieces at
 * most every `intervalMs`: adjacent chunks of one stream join, so a program
 * that prints a line at a time costs an event per interval, not per line. At
 * most `cap` characters pass in all; the piece that reaches the cap says so.
 */
export class LiveOutput {
  readonly #emit: (piece: OutputPiece) => void;
  readonly #intervalMs: number;
  readonly #cap: number;
  #pending: OutputPiece[] = [];
  #taken = 0;
  #full = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(emit: (piece: OutputPiece) => void, options: { intervalMs?: number; cap?: number } = {}) {
    this.#emit = emit;
    this.#intervalMs = options.intervalMs ?? LIVE_OUTPUT_INTERVAL_MS;
    this.#cap = options.cap ?? LIVE_OUTPUT_CHARS;
  }

  push(stream: Stream, data: string): void {
    if (this.#full || data.length === 0) return;
    let text = data;
    const room = this.#cap - this.#taken;
    if (text.length >= room) {
      text = cutAt(text, room);
      this.#full = true;
    }
    this.#taken += text.length;
    const last = this.#pending.at(-1);
    if (last && last.stream === stream) last.data += text;
    else this.#pending.push({ stream, data: text });
    if (this.#full) {
      const end = this.#pending.at(-1);
      if (end) end.cut = true;
    }
    this.#timer ??= setTimeout(() => this.flush(), this.#intervalMs);
  }

  /** Hands on what has gathered now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const pieces = this.#pending;
    this.#pending = [];
    for (const piece of pieces) if (piece.data.length > 0 || piece.cut) this.#emit(piece);
  }

  /** The execution ended: what is left goes out, and nothing after. */
  close(): void {
    this.flush();
    this.#full = true;
  }
}

/** The first `n` characters of `text`, never splitting a surrogate pair. */
function cutAt(text: string, n: number): string {
  if (n <= 0) return "";
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}
