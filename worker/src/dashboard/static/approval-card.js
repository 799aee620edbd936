// The approval cards of one timeline: one per approval.requested, each with
// its own Approve / Deny controls that name its call (a coder reply with
// several run_code calls asks about each, and the run waits until all are
// decided). approval.decided, or the run's end, closes a card and takes its
// call off the waiting list shown at the top of the run page.

import { card, h, replace, str } from "./dom.js";

/** The `POST /v1/runs/:id/approval` body for one call: the reason trimmed, left out when empty. */
export function approvalBody(approve, reason, toolCallId) {
  const body = { approve: approve === true };
  const why = typeof reason === "string" ? reason.trim() : "";
  if (why) body.reason = why;
  if (toolCallId) body.toolCallId = toolCallId;
  return body;
}

/** What the waiting list says for these waiting calls; "" when none waits. */
export function waitingText(count) {
  if (count === 0) return "";
  return count === 1 ? "1 call waits for a decision:" : `${count} calls wait for a decision:`;
}

export class ApprovalCards {
  /** Cards still waiting, by tool call id, in the order asked: {el, controls, status, reason, language}. */
  #pending = new Map();
  #decide;
  #ended = false;
  /** The waiting list: the run page shows it above the timeline. */
  waiting = h("div", { class: "waiting-calls", "data-testid": "waiting-calls", hidden: true });

  /** `decide(body)` posts an approval body and resolves, or throws an ApiError. */
  constructor(decide) {
    this.#decide = decide;
  }

  /** The card approval.requested opens. */
  requested(p) {
    const toolCallId = str(p.toolCallId);
    const reason = h("input", {
      type: "text",
      maxlength: 2000,
      placeholder: "Reason (optional)",
      "aria-label": "Reason",
    });
    const status = h("p", { class: "note", role: "status" });
    const approveBtn = h("button", { type: "button", class: "primary" }, "Approve");
    const denyBtn = h("button", { type: "button", class: "danger" }, "Deny");
    const controls = h(
      "div",
      { class: "approval-controls" },
      reason,
      h("div", { class: "buttons" }, approveBtn, denyBtn),
    );
    const decide = async (approve) => {
      approveBtn.disabled = true;
      denyBtn.disabled = true;
      reason.disabled = true;
      replace(status, "Sending…");
      try {
        await this.#decide(approvalBody(approve, reason.value, toolCallId));
        // The approval.decided event may have come through the stream before this answer did;
        // then the card is settled already and says what was decided.
        if (this.#pending.has(toolCallId)) {
          replace(status, approve ? "Approved; waiting for the run to continue…" : "Denied; waiting for the run…");
        }
      } catch (err) {
        if (!this.#pending.has(toolCallId)) return;
        replace(status, `Could not send: ${err.message}`);
        if (!this.#ended) {
          approveBtn.disabled = false;
          denyBtn.disabled = false;
          reason.disabled = false;
        }
      }
    };
    approveBtn.addEventListener("click", () => decide(true));
    denyBtn.addEventListener("click", () => decide(false));
    // The files are part of what runs: they are written into the workspace before the code starts.
    const files = Array.isArray(p.files) ? p.files : [];
    const el = card(
      "approval",
      h(
        "span",
        {},
        `Approval needed before running this ${str(p.language)} code `,
        h("span", { class: "meta" }, toolCallId),
      ),
      h("pre", {}, str(p.code)),
      ...files.map((f) =>
        h(
          "div",
          { class: "code", "data-testid": "approval-file" },
          h("div", { class: "code-title" }, `File it writes first: ${str(f?.path)}`),
          h("pre", {}, str(f?.content)),
        ),
      ),
      controls,
      status,
    );
    el.dataset.testid = "approval";
    el.dataset.toolCallId = toolCallId;
    el.dataset.state = "waiting";
    this.#pending.set(toolCallId, { el, controls, status, reason, language: str(p.language) });
    this.#showWaiting();
    return el;
  }

  /** Closes the card approval.decided names. */
  decided(p) {
    this.#settle(str(p.toolCallId), p.approve === true, str(p.reason));
  }

  /** The run ended: a card still open can no longer be decided. */
  endAll() {
    this.#ended = true;
    for (const id of [...this.#pending.keys()]) this.#settle(id, null, "");
  }

  /** Closes a card: decided (true/false) or moot (null, the run ended). */
  #settle(toolCallId, approved, reason) {
    const pending = this.#pending.get(toolCallId);
    if (!pending) return;
    this.#pending.delete(toolCallId);
    pending.controls.remove();
    pending.el.dataset.state = approved === null ? "moot" : approved ? "approved" : "denied";
    replace(
      pending.status,
      approved === null
        ? "The run ended before a decision."
        : approved
          ? "Approved."
          : `Denied${reason ? `: ${reason}` : "."}`,
    );
    this.#showWaiting();
  }

  /** The waiting list: each waiting call as a button that brings its card into view. */
  #showWaiting() {
    const text = waitingText(this.#pending.size);
    this.waiting.hidden = text === "";
    this.waiting.dataset.count = String(this.#pending.size);
    replace(
      this.waiting,
      text,
      [...this.#pending].map(([id, { el, reason, language }]) =>
        h(
          "button",
          {
            type: "button",
            class: "link",
            "data-tool-call-id": id,
            onclick: () => {
              el.scrollIntoView({ block: "center" });
              reason.focus({ preventScroll: true });
            },
          },
          `${id}${language ? ` (${language})` : ""}`,
        ),
      ),
    );
  }
}
