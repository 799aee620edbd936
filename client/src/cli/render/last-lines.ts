import { printable } from "../output.ts";

/** Most characters of the line still being written that are kept (a program may print no newline at all). */
const PARTIAL_CHARS = 4096;

/**
 * The last lines of a running execution's output, for the live view: fed the
 * `execution.output` pieces as they come, holding at most `max` lines (and
 * the unfinished one), so memory stays bounded however much a program prints.
 * A carriage return starts its line over, as on a terminal, so a progress bar
 * shows as its latest state.
 *
 * @example
 * const tail = new LastLines(2);
 * tail.push("a\nb\nc");
 * tail.lines(); // ["b", "c"]
 */
export class LastLines {
  readonly #max: number;
  #lines: string[] = [];
  #partial = "";

  constructor(max = 5) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`LastLines keeps at least 1 line, got ${max}`);
    this.#max = max;
  }

  push(data: string): void {
    const parts = data.split("\n");
    parts[0] = this.#partial + (parts[0] ?? "");
    this.#partial = (parts.pop() ?? "").slice(-PARTIAL_CHARS);
    for (const line of parts.slice(-this.#max)) this.#lines.push(shown(line));
    if (this.#lines.length > this.#max) this.#lines.splice(0, this.#lines.length - this.#max);
  }

  /** The newest lines, oldest first, safe for a terminal (control characters made visible, tabs as spaces). */
  lines(): string[] {
    const partial = shown(this.#partial);
    const all = partial ? [...this.#lines, partial] : this.#lines;
    return all.slice(-this.#max).map((l) => printable(l.replace(/\t/g, "  ")));
  }
}

/** What a terminal would show of a line: the text after its last carriage return (a CRLF's CR is only an ending). */
function shown(line: string): string {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  return text.slice(text.lastIndexOf("\r") + 1);
}
