import type { RunEvent } from "@edgeswarm/shared";

const encoder = new TextEncoder();
/** How often an idle event stream gets a comment line (see executions.ts for why). */
const KEEPALIVE_MS = 2_000;
/** Most event streams one run serves at once. */
export const MAX_STREAMS = 64;
/** Events read from the log per pull: what one stream holds in memory at most. */
const PAGE = 64;

function frame(e: RunEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** Where a stream reads its events from: the log, and whether the run has ended. */
export interface StreamSource {
  after(seq: number, limit: number): RunEvent[];
  ended(): boolean;
}

/**
 * The run's live SSE streams. Each is pulled: it reads the next page of events
 * from the log only when its reader asks for more, so a caller that stops
 * reading holds one page, never the run's whole log. A stream starts after the
 * caller's Last-Event-ID, so a client that reconnects sees every event exactly
 * once, and it closes after the `run.finished` that ends the run (a run that
 * was continued has one per task turn; the stream goes on past the earlier ones).
 */
export class StreamHub {
  /** Pulls waiting for the next event, one per stream that has read everything. */
  readonly #waiting = new Set<() => void>();
  #open = 0;

  get size(): number {
    return this.#open;
  }

  open(source: StreamSource, from: number): ReadableStream<Uint8Array> {
    let cursor = from;
    let wake: (() => void) | undefined;
    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      this.#open--;
      if (wake) this.#waiting.delete(wake);
    };
    this.#open++;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            const page = source.after(cursor, PAGE);
            if (page.length > 0) {
              cursor = page.at(-1)?.seq ?? cursor;
              controller.enqueue(encoder.encode(page.map(frame).join("")));
              // A continued run goes on after a run.finished: the stream ends at the run's last end.
              if (page.at(-1)?.type === "run.finished" && source.ended()) {
                finish();
                controller.close();
              }
              return;
            }
            if (source.ended()) {
              finish();
              controller.close();
              return;
            }
            // Caught up: wait for the next event, or send a keep-alive after a while.
            const event = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), KEEPALIVE_MS);
              wake = () => {
                clearTimeout(timer);
                resolve(true);
              };
              this.#waiting.add(wake);
            });
            if (wake) this.#waiting.delete(wake);
            wake = undefined;
            if (closed) return;
            if (!event) {
              controller.enqueue(encoder.encode(": keep-alive\n\n"));
              return;
            }
          }
        },
        cancel: finish,
      },
      // One chunk ahead: a reader that stops reading stops the reads from the log.
      { highWaterMark: 1 },
    );
  }

  /** Wakes the streams that wait for the next event. */
  publish(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const wake of waiting) wake();
  }
}
