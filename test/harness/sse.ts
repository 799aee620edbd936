/**
 * Parses a Server-Sent Events body into its events' `data` (JSON), with the
 * time each arrived. Comment lines (keep-alives) are skipped.
 */
export async function* sseData(body: NonNullable<Response["body"]>): AsyncGenerator<{ data: unknown; at: number }> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      let end = buffered.indexOf("\n\n");
      while (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (data) yield { data: JSON.parse(data), at: performance.now() };
        end = buffered.indexOf("\n\n");
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
