// One timeline card per execution. execution.started opens it with a live
// output box; each execution.output is appended to it (found by its
// executionId, since a reply's calls may run at once and their pieces
// interleave); execution.finished replaces it in place with the result, which
// is the whole output (up to its own limit) and so the one to trust. An
// execution.retry marks the card of the attempt that was lost.

import { badge, card, duration, h, num, str } from "./dom.js";
import { imageFigure, imageType } from "./images.js";
import { LiveOutput } from "./live-output.js";

function output(label, text, truncated, testid) {
  if (!text && !truncated) return null;
  return h(
    "div",
    { class: "output" },
    h("div", { class: "output-label" }, label, truncated ? " (cut at the output limit)" : ""),
    h("pre", { class: `stream-${label}`, "data-testid": testid }, text),
  );
}

/** The execution cards of one timeline, and the images they are waiting for. */
export class ExecutionCards {
  /** Running cards by executionId: {el, live, toolCallId}. */
  #running = new Map();
  /** The running card of each tool call, by toolCallId (its latest attempt). */
  #byCall = new Map();
  /** Image figures with no bytes yet, by path. */
  #waiting = new Map();
  /** The run's images: an ImageStore, or null until the page has one. */
  #images = null;

  /** The card execution.started opens. */
  started(p) {
    const executionId = str(p.executionId);
    const toolCallId = str(p.toolCallId);
    const live = new LiveOutput();
    const el = card(
      "execution",
      h(
        "span",
        {},
        "Execution ",
        badge("running"),
        " ",
        h("span", { class: "meta" }, [toolCallId, str(p.agentId) ? `on ${p.agentId}` : ""].filter(Boolean).join(" · ")),
      ),
      live.el,
    );
    el.dataset.testid = "execution";
    el.dataset.state = "running";
    el.dataset.toolCallId = toolCallId;
    const entry = { el, live, toolCallId };
    this.#running.set(executionId, entry);
    this.#byCall.set(toolCallId, entry);
    return el;
  }

  /** Appends execution.output to its card; returns a new card only for output of an execution never started. */
  output(p) {
    let entry = this.#running.get(str(p.executionId));
    let el = null;
    if (!entry) {
      el = this.started(p);
      entry = this.#running.get(str(p.executionId));
    }
    entry.live.append(str(p.stream), str(p.data), p.cut === true);
    return el;
  }

  /** The attempt of `toolCallId` that was running is lost; another may start. */
  retried(p) {
    const entry = this.#byCall.get(str(p.toolCallId));
    if (!entry) return;
    this.#forget(entry);
    entry.el.dataset.state = "retried";
    entry.el
      .querySelector(".event-title")
      ?.replaceChildren(
        "Execution ",
        badge("lost"),
        h("span", { class: "meta" }, ` ${entry.toolCallId} · retried: ${str(p.reason)}`),
      );
  }

  /** The run ended (cancelled, timed out) with executions still open: their cards say so. */
  endAll() {
    for (const entry of new Set(this.#running.values())) {
      entry.el.dataset.state = "unfinished";
      entry.el
        .querySelector(".event-title")
        ?.replaceChildren(
          "Execution ",
          badge("cancelled"),
          h("span", { class: "meta" }, ` ${entry.toolCallId} · ended with the run, without a result`),
        );
    }
    this.#running.clear();
    this.#byCall.clear();
  }

  /**
   * The card of execution.finished. It takes the running card's place when
   * there is one (and then `null` is returned: nothing new to append).
   */
  finished(p, seq) {
    const el = this.#finishedCard(p);
    const entry = (p.executionId && this.#running.get(str(p.executionId))) || this.#byCall.get(str(p.toolCallId));
    if (!entry) return el;
    this.#forget(entry);
    el.dataset.seq = entry.el.dataset.seq ?? "";
    el.dataset.type = "execution.finished";
    el.dataset.finishedSeq = String(seq);
    entry.el.replaceWith(el);
    return null;
  }

  /** Shows every waiting image that `images` (an ImageStore) now has, and any later one at once. */
  showImages(images) {
    this.#images = images;
    for (const [path, figures] of this.#waiting) {
      const url = images.url(path);
      if (!url) continue;
      for (const figure of figures) figure.replaceWith(imageFigure(path, url, "execution-image"));
      this.#waiting.delete(path);
    }
  }

  #forget(entry) {
    for (const [id, e] of this.#running) if (e === entry) this.#running.delete(id);
    if (this.#byCall.get(entry.toolCallId) === entry) this.#byCall.delete(entry.toolCallId);
  }

  #figure(path) {
    const url = this.#images?.url(path) ?? null;
    const figure = imageFigure(path, url, "execution-image");
    if (!url) this.#waiting.set(path, [...(this.#waiting.get(path) ?? []), figure]);
    return figure;
  }

  #finishedCard(p) {
    const facts = [
      `#${num(p.iteration) ?? "?"}`,
      num(p.exitCode) !== null ? `exit ${p.exitCode}` : null,
      str(p.signal) ? `signal ${p.signal}` : null,
      duration(num(p.durationMs)),
      str(p.agentId) ? `on ${p.agentId}` : null,
    ].filter(Boolean);
    const truncated = p.truncated ?? {};
    const files = Array.isArray(p.files) ? p.files.filter((f) => typeof f === "string") : [];
    const images = files.filter((f) => imageType(f));
    const el = card(
      "execution",
      h("span", {}, "Execution ", badge(str(p.status)), " ", h("span", { class: "meta" }, facts.join(" · "))),
      output("stdout", str(p.stdout), truncated.stdout === true, "stdout"),
      output("stderr", str(p.stderr), truncated.stderr === true, "stderr"),
      files.length ? h("p", { class: "meta" }, `Files written: ${files.join(", ")}`) : null,
      images.length
        ? h(
            "div",
            { class: "images" },
            images.map((path) => this.#figure(path)),
          )
        : null,
      p.error ? h("p", { class: "error-text" }, `${str(p.error.code)}: ${str(p.error.message)}`) : null,
    );
    el.dataset.testid = "execution";
    el.dataset.state = "finished";
    el.dataset.toolCallId = str(p.toolCallId);
    return el;
  }
}
