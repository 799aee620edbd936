// An execution's output while it runs: the execution.output pieces in the
// order they came, stdout and stderr told apart, in one <pre>. The run's log
// already caps each execution's live output (LIVE_OUTPUT_CHARS, 256 KiB), but
// a page may show many executions, so the page keeps only the newest
// RENDER_CHARS of each: the tail is what a person watching wants.

import { h, replace } from "./dom.js";

/** Most characters of one execution's live output the page keeps on screen. */
export const RENDER_CHARS = 64 * 1024;

const isLowSurrogate = (code) => code >= 0xdc00 && code <= 0xdfff;

/**
 * The text model behind the <pre>: segments of one stream each, adjacent
 * pieces of the same stream merged, cut from the front past `cap`. `push`
 * returns the edits that bring a rendering of the segments up to date, so the
 * DOM is edited in place rather than redrawn. Pure, for the unit test.
 */
export class OutputTail {
  /** @type {{stream: string, text: string}[]} */
  segments = [];
  /** Characters held now. */
  length = 0;
  /** Characters dropped from the front so far. */
  dropped = 0;

  constructor(cap = RENDER_CHARS) {
    this.cap = cap;
  }

  /** Adds a piece; returns edits: extend (the last segment), add (a new one), drop (the first), trim (the first's front). */
  push(stream, text) {
    const edits = [];
    if (!text) return edits;
    if (text.length > this.cap) {
      let from = text.length - this.cap;
      if (isLowSurrogate(text.charCodeAt(from))) from += 1;
      this.dropped += from;
      text = text.slice(from);
    }
    const last = this.segments.at(-1);
    if (last && last.stream === stream) {
      last.text += text;
      edits.push({ edit: "extend", text });
    } else {
      this.segments.push({ stream, text });
      edits.push({ edit: "add", stream, text });
    }
    this.length += text.length;
    while (this.length > this.cap) {
      const first = this.segments[0];
      let excess = this.length - this.cap;
      if (first.text.length <= excess) {
        this.segments.shift();
        this.length -= first.text.length;
        this.dropped += first.text.length;
        edits.push({ edit: "drop" });
        continue;
      }
      // Never leave half of a surrogate pair at the front.
      if (isLowSurrogate(first.text.charCodeAt(excess))) excess += 1;
      first.text = first.text.slice(excess);
      this.length -= excess;
      this.dropped += excess;
      edits.push({ edit: "trim", chars: excess });
    }
    return edits;
  }
}

/** The live box of one execution: its output as it comes, and notes on what is not shown. */
export class LiveOutput {
  #tail = new OutputTail();
  #pre = h("pre", { class: "live-output", "data-testid": "live-output", "aria-live": "off" });
  #notes = h("p", { class: "note", "data-testid": "live-note" });
  #cut = false;
  el = h("div", { class: "output" }, h("div", { class: "output-label" }, "output so far"), this.#pre, this.#notes);

  /** Appends one execution.output payload's text (set as text, never parsed). */
  append(stream, data, cut) {
    const kind = stream === "stderr" ? "stderr" : "stdout";
    for (const e of this.#tail.push(kind, data)) {
      if (e.edit === "extend") this.#pre.lastChild.firstChild.appendData(e.text);
      else if (e.edit === "add") {
        this.#pre.append(h("span", { class: `stream-${e.stream}`, "data-stream": e.stream }, e.text));
      } else if (e.edit === "drop") this.#pre.firstChild.remove();
      else this.#pre.firstChild.firstChild.deleteData(0, e.chars);
    }
    if (cut) this.#cut = true;
    this.#note();
  }

  #note() {
    const notes = [];
    if (this.#tail.dropped > 0) notes.push(`The first ${this.#tail.dropped} characters are not shown here.`);
    if (this.#cut) notes.push("The live log keeps no more of this output; the rest comes when the execution ends.");
    replace(this.#notes, notes.join(" "));
    this.#notes.dataset.cut = String(this.#cut);
  }
}
