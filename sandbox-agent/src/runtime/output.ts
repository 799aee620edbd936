/**
 * Decodes one output stream to text under a byte cap. The runner enforces the
 * cap itself; this is the agent's backstop should the runner be subverted.
 */
export class CappedDecoder {
  readonly cap: number;
  // Streaming mode keeps a character split across chunks; non-fatal turns invalid bytes into U+FFFD.
  #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  #bytes = 0;
  #truncated = false;
  #ended = false;

  constructor(capBytes: number) {
    this.cap = capBytes;
  }

  /** Bytes accepted so far (at most the cap). */
  get bytes(): number {
    return this.#bytes;
  }

  /** True once bytes past the cap were dropped. */
  get truncated(): boolean {
    return this.#truncated;
  }

  /** Decodes what `chunk` completes; bytes past the cap are dropped. Returns "" when there is nothing to show. */
  write(chunk: Uint8Array): string {
    if (this.#ended) return "";
    const room = this.cap - this.#bytes;
    if (chunk.length > room) {
      this.#truncated = true;
      chunk = chunk.subarray(0, Math.max(0, room));
    }
    if (chunk.length === 0) return "";
    this.#bytes += chunk.length;
    return this.#decoder.decode(chunk, { stream: true });
  }

  /** Flushes a trailing incomplete character (as U+FFFD). Later writes are ignored. */
  end(): string {
    if (this.#ended) return "";
    this.#ended = true;
    return this.#decoder.decode();
  }
}
