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
  let buffered = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line) yield ExecutionEvent.parse(JSON.parse(line));
        nl = buffered.indexOf("\n");
      }
    }
  } finally {
    signal?.removeEventListener("abort", abort);
    reader.cancel().catch(() => {});
  }
}
