import { ExecutionEvent } from "@edgeswarm/shared";

/**
 * Reads the PoolDO's execution stream: one JSON event per line. A line that is
 * not a valid event ends the stream with an error (the DO is ours; this is a bug).
 */
export async function* readEvents(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<ExecutionEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  // Cancel the reader itself: a generator's return() would wait for a read that
  // may not come for minutes (a sleeping program writes nothing).
  const abort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener("abort", abort, { once: true });
  // A line can be many MiB (a finished event carries the returned files): keep
  // its pieces and search only each new chunk, never the whole line again.
  let pieces: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      let start = 0;
      for (let nl = value.indexOf("\n"); nl >= 0; nl = value.indexOf("\n", start)) {
        pieces.push(value.slice(start, nl));
        const line = pieces.join("");
        pieces = [];
        start = nl + 1;
        if (line) yield ExecutionEvent.parse(JSON.parse(line));
      }
      if (start < value.length) pieces.push(value.slice(start));
    }
  } finally {
    signal?.removeEventListener("abort", abort);
    reader.cancel().catch(() => {});
  }
}
