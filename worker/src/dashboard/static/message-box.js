// The run page's message box: `POST /v1/runs/:id/messages {text}`. A team
// that handed the conversation to the user (awaiting_input) takes the text as
// its next message; an ended run takes it as a new task turn and continues.
// While the run works the API answers 409, so the box waits until then.

import { h, replace } from "./dom.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled", "timed_out"]);

/** Whether a run in `status` takes a message now. */
export function acceptsMessage(status) {
  return status === "awaiting_input" || TERMINAL.has(status);
}

/** What the box says about the run's state. */
export function messageHint(status) {
  if (status === "awaiting_input") return "The team handed the conversation to you: your message is its next turn.";
  if (TERMINAL.has(status)) return "The run has ended: a message continues it with a new task.";
  return "You can write once the run awaits input or has ended.";
}

export class MessageBox {
  #send;
  #status = null;
  #sending = false;
  #text = h("textarea", { name: "text", rows: 3, required: true, maxlength: 32768, "aria-label": "Message" });
  #button = h("button", { type: "submit", class: "primary" }, "Send");
  #hint = h("p", { class: "meta", "data-testid": "message-hint" });
  #note = h("p", { class: "note", role: "status" });
  #error = h("p", { class: "error-text", role: "alert", "data-testid": "message-error" });
  el = h(
    "form",
    { class: "panel message-box", "data-testid": "message-box" },
    h("h2", {}, "Message"),
    this.#hint,
    this.#text,
    h("div", { class: "buttons" }, this.#button),
    this.#note,
    this.#error,
  );

  /** `send(text)` posts the message and resolves with the run's view, or throws an ApiError. */
  constructor(send) {
    this.#send = send;
    this.el.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.#submit();
    });
    this.update(null);
  }

  /** Follows the run's status: the box is enabled only while the API would take a message. */
  update(status) {
    this.#status = status;
    this.el.dataset.status = String(status);
    replace(this.#hint, status ? messageHint(status) : "");
    const open = acceptsMessage(status) && !this.#sending;
    this.#text.disabled = !open;
    this.#button.disabled = !open;
  }

  async #submit() {
    const text = this.#text.value;
    if (!text.trim() || !acceptsMessage(this.#status)) return;
    this.#sending = true;
    this.update(this.#status);
    replace(this.#error);
    replace(this.#note, "Sending…");
    try {
      const run = await this.#send(text);
      this.#text.value = "";
      replace(this.#note, "Sent.");
      this.#sending = false;
      this.update(run?.status ?? null);
    } catch (err) {
      replace(this.#note);
      replace(this.#error, `Could not send (${err.status ?? "?"} ${err.code ?? "error"}): ${err.message}`);
      this.#sending = false;
      this.update(this.#status);
    }
  }
}
