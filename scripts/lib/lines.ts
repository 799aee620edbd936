/**
 * Splits a stream's text chunks into lines, keeping the piece after the last
 * newline for the next chunk: a line cut across two chunks comes out whole.
 *
 * @example
 * const lines = new LineSplitter();
 * stream.on("data", (chunk) => { for (const line of lines.push(String(chunk))) handle(line); });
 */
export class LineSplitter {
  #partial = "";

  /** The lines `chunk` completes, without their newlines. */
  push(chunk: string): string[] {
    const parts = (this.#partial + chunk).split("\n");
    this.#partial = parts.pop() ?? "";
    return parts;
  }
}
