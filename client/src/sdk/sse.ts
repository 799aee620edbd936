/** One Server-Sent Event: its `event` name (default "message"), its `data`, and its `id` if it set one. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * An event bigger than this ends the stream with an error rather than growing
 * without bound. An execution's `finished` event carries its returned files
 * (up to 16 MiB, more once base64 and JSON-escaped), so the cap sits well above.
 */
export const MAX_SSE_EVENT_CHARS = 64 * 1024 * 1024;

/**
 * Parses an SSE body as the HTML spec says: lines end in CRLF, LF or CR;
 * `:` lines are comments (keep-alives); `data` lines join with "\n"; a blank
 * line dispatches; an event with no data is dropped. `id` is reported on the
 * event that carried it. Stops reading when `signal` aborts.
 *
 * @example
 * for await (const m of parseSse(res.body)) console.log(m.event, JSON.parse(m.data));
 */
export async function* parseSse(
  body: NonNullable<Response["body"]>,
  options: { signal?: AbortSignal; maxEventChars?: number } = {},
): AsyncGenerator<SseMessage> {
  const max = options.maxEventChars ?? MAX_SSE_EVENT_CHARS;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  // Cancel the reader itself on abort: a pending read may not settle for a long time.
  const abort = () => void reader.cancel().catch(() => {});
  options.signal?.addEventListener("abort", abort, { once: true });
  const lines = new LineSplitter();
  let event = "";
  let data: string[] = [];
  let dataChars = 0;
  let id: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const line of lines.push(value)) {
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
          event = "";
          data = [];
          dataChars = 0;
          id = undefined;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "data") {
          dataChars += text.length + 1;
          if (dataChars > max) throw new Error(`an SSE event passed ${max} characters`);
          data.push(text);
        } else if (field === "event") event = text;
        else if (field === "id" && !text.includes("\0")) id = text;
      }
      if (lines.pendingChars > max) throw new Error(`an SSE line passed ${max} characters`);
    }
    options.signal?.throwIfAborted();
  } finally {
    options.signal?.removeEventListener("abort", abort);
    reader.cancel().catch(() => {});
  }
}

/** Splits text chunks into lines at CRLF, LF or CR, holding an unfinished line (and a CR that may precede LF). */
export class LineSplitter {
  #pieces: string[] = [];
  #pendingChars = 0;
  #lastWasCr = false;

  get pendingChars(): number {
    return this.#pendingChars;
  }

  push(chunk: string): string[] {
    const out: string[] = [];
    let start = 0;
    if (this.#lastWasCr && chunk.startsWith("\n")) start = 1;
    this.#lastWasCr = false;
    for (let i = start; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#pieces.push(chunk.slice(start, i));
      out.push(this.#pieces.join(""));
      this.#pieces = [];
      this.#pendingChars = 0;
      if (c === 13) {
        if (i + 1 === chunk.length) this.#lastWasCr = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    if (start < chunk.length) {
      this.#pieces.push(chunk.slice(start));
      this.#pendingChars += chunk.length - start;
    }
    return out;
  }
}
