import type { RunEvent } from "@edgeswarm/shared";

const encoder = new TextEncoder();
/** How often an idle event stream gets a comment line (see executions.ts for why). */
const KEEPALIVE_MS = 2_000;
/** Most event streams one run serves at once. */
export const MAX_STREAMS = 64;

function frame(e: RunEvent): Uint8Array {
  return encoder.encode(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
}

interface Sink {
  send(e: RunEvent): void;
  close(): void;
}

/**
 * The run's live SSE streams. A new stream first gets the backlog (every event
 * after the caller's Last-Event-ID), then each event as it is appended, so a
 * client that reconnects sees every event exactly once. Streams close after
 * `run.finished`.
 */
export class StreamHub {
  readonly #sinks = new Set<Sink>();

  get size(): number {
    return this.#sinks.size;
  }

  open(backlog: readonly RunEvent[], ended: boolean): Response {
    let sink: Sink | undefined;
    let keepAlive: ReturnType<typeof setInterval> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        for (const e of backlog) controller.enqueue(frame(e));
        if (ended) return controller.close();
        const done = () => {
          clearInterval(keepAlive);
          if (sink) this.#sinks.delete(sink);
        };
        sink = {
          send: (e) => {
            try {
              controller.enqueue(frame(e));
              if (e.type === "run.finished") {
                done();
                controller.close();
              }
            } catch {
              done(); // the reader is gone
            }
          },
          close: () => {
            done();
            try {
              controller.close();
            } catch {
              // already closed
            }
          },
        };
        this.#sinks.add(sink);
        keepAlive = setInterval(() => {
          try {
            controller.enqueue(encoder.encode(": keep-alive\n\n"));
          } catch {
            done();
          }
        }, KEEPALIVE_MS);
      },
      cancel: () => {
        clearInterval(keepAlive);
        if (sink) this.#sinks.delete(sink);
      },
    });
    return new Response(body, {
      headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" },
    });
  }

  publish(e: RunEvent): void {
    for (const sink of [...this.#sinks]) sink.send(e);
  }
}
