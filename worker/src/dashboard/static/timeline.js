// The run's timeline: one card per event, in log order, except that an
// execution's events (started, its output, finished) share one card (see
// execution-card.js). Payload shapes are those of shared/src/events.ts;
// anything missing or of the wrong type is shown as absent rather than trusted.

import { diffStats, lineDiff } from "./diff.js";
import { badge, card, duration, h, num, replace, str } from "./dom.js";
import { ExecutionCards } from "./execution-card.js";

function pre(text, props = {}) {
  return h("pre", props, text);
}

function diffView(diff) {
  return h(
    "pre",
    { class: "diff", "data-testid": "code-diff" },
    diff.map((line) =>
      h(
        "span",
        { class: line.op === "+" ? "add" : line.op === "-" ? "del" : "same", "data-op": line.op },
        `${line.op} ${line.text}\n`,
      ),
    ),
  );
}

/**
 * Renders events into `list` (an <ol>). `approve(approve, reason)` posts a
 * decision and resolves or throws an ApiError.
 */
export class Timeline {
  #list;
  #approve;
  #steps = [];
  #codeVersions = 0;
  #previousCode = null;
  /** Approval cards still waiting, by tool call id. */
  #pending = new Map();
  #ended = false;
  #executions = new ExecutionCards();
  /** Events taken in: with the cards' seqs, what a test checks to see none was missed or repeated. */
  #seen = 0;

  constructor(list, { approve }) {
    this.#list = list;
    this.#approve = approve;
  }

  add(event) {
    this.#seen += 1;
    this.#list.dataset.events = String(this.#seen);
    const el = this.#render(event);
    if (el) {
      el.dataset.seq = String(event.seq);
      el.dataset.type = String(event.type);
      this.#list.append(el);
    }
  }

  #render(e) {
    const p = e.payload ?? {};
    switch (e.type) {
      case "run.created":
        return card(
          "created",
          "Run created",
          h(
            "p",
            { class: "meta" },
            `approval: ${str(p.approval)} · at most ${num(p.maxIterations) ?? "?"} executions · coder ${str(p.coder?.model)}` +
              (p.planner ? ` · planner ${str(p.planner.model)}` : " · no planner"),
          ),
        );
      case "plan.created": {
        this.#steps = Array.isArray(p.steps) ? p.steps : [];
        return card(
          "plan",
          p.skipped
            ? "No planner: the task is the one step"
            : `Plan: ${this.#steps.length} ${this.#steps.length === 1 ? "step" : "steps"}`,
          p.skipped ? null : planList(this.#steps),
        );
      }
      case "step.started": {
        const step = num(p.step) ?? 0;
        const goal = str(this.#steps[step]?.goal);
        return card(
          "step",
          `Step ${step + 1}${this.#steps.length ? ` of ${this.#steps.length}` : ""}`,
          goal ? h("p", {}, goal) : null,
        );
      }
      case "coder.replied":
        return this.#coderReply(p);
      case "tool.rejected":
        return card("rejected", `Tool call rejected: ${str(p.name)}`, pre(str(p.message)));
      case "approval.requested":
        return this.#approvalCard(p);
      case "approval.decided": {
        this.#settle(str(p.toolCallId), p.approve === true, str(p.reason));
        return card(
          "decided",
          p.approve ? "Execution approved" : "Execution denied",
          p.reason ? h("p", {}, `Reason: ${str(p.reason)}`) : null,
        );
      }
      case "execution.started":
        return this.#executions.started(p);
      case "execution.output":
        return this.#executions.output(p);
      case "execution.finished":
        return this.#executions.finished(p, e.seq);
      case "execution.retry":
        this.#executions.retried(p);
        return card(
          "retry",
          `Execution retried (${str(p.reason)}, attempt ${num(p.attempt) ?? "?"})`,
          h("p", {}, str(p.message)),
        );
      case "model.retry":
        return card(
          "retry",
          `The ${str(p.role)} model is retried in ${duration(num(p.delayMs))} (attempt ${num(p.attempt) ?? "?"})`,
          h("p", {}, str(p.message)),
        );
      case "step.finished":
        return card(
          "step-finished",
          h(
            "span",
            {},
            `Step ${(num(p.step) ?? 0) + 1} finished `,
            badge(p.verdict === "success" ? "success" : "failure"),
          ),
          h("p", {}, str(p.summary)),
        );
      case "run.finished":
        this.#ended = true;
        for (const id of [...this.#pending.keys()]) this.#settle(id, null, "");
        this.#executions.endAll();
        return card(
          "finished",
          h("span", {}, "Run finished ", badge(str(p.status))),
          p.reason || p.message ? h("p", {}, [str(p.reason), str(p.message)].filter(Boolean).join(": ")) : null,
        );
      default:
        return card("other", str(e.type));
    }
  }

  /** Shows the images of `images` (an ImageStore) in the execution cards that name them. */
  showImages(images) {
    this.#executions.showImages(images);
  }

  #coderReply(p) {
    const calls = Array.isArray(p.toolCalls) ? p.toolCalls : [];
    const usage = p.usage ? `${num(p.usage.inputTokens) ?? 0} in / ${num(p.usage.outputTokens) ?? 0} out tokens` : "";
    return card(
      "coder",
      h("span", {}, "Coder ", h("span", { class: "meta" }, usage)),
      str(p.text) ? h("p", { class: "prose" }, str(p.text)) : null,
      calls.map((call) => this.#toolCall(call)),
    );
  }

  #toolCall(call) {
    const input = call && typeof call.input === "object" && call.input !== null ? call.input : {};
    if (call?.name === "run_code" && typeof input.code === "string") {
      this.#codeVersions += 1;
      const version = this.#codeVersions;
      const language = str(input.language) || "python";
      const previous = this.#previousCode;
      this.#previousCode = input.code;
      if (previous === null) {
        return h(
          "div",
          { class: "code", "data-testid": "code-version", "data-version": version },
          h("div", { class: "code-title" }, `Code v${version} (${language})`),
          pre(input.code),
        );
      }
      const diff = lineDiff(previous, input.code);
      const { added, removed } = diffStats(diff);
      return h(
        "div",
        { class: "code", "data-testid": "code-version", "data-version": version },
        h(
          "div",
          { class: "code-title" },
          `Code v${version} (${language}): +${added} −${removed} lines against v${version - 1}`,
        ),
        diffView(diff),
        h("details", {}, h("summary", {}, `Whole of v${version}`), pre(input.code)),
      );
    }
    if (call?.name === "finish") {
      return h(
        "div",
        { class: "code" },
        h("div", { class: "code-title" }, "Finish ", badge(input.verdict === "success" ? "success" : "failure")),
        h("p", {}, str(input.summary)),
        str(input.code) ? pre(str(input.code)) : null,
      );
    }
    return h(
      "div",
      { class: "code" },
      h("div", { class: "code-title" }, `Tool call: ${str(call?.name)}`),
      pre(str(call?.raw) || JSON.stringify(input, null, 2)),
    );
  }

  #approvalCard(p) {
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
        await this.#approve(approve, reason.value.trim() || undefined);
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
      `Approval needed before running this ${str(p.language)} code`,
      pre(str(p.code)),
      ...files.map((f) =>
        h(
          "div",
          { class: "code", "data-testid": "approval-file" },
          h("div", { class: "code-title" }, `File it writes first: ${str(f.path)}`),
          pre(str(f.content)),
        ),
      ),
      controls,
      status,
    );
    el.dataset.testid = "approval";
    this.#pending.set(toolCallId, { el, controls, status });
    return el;
  }

  /** Closes an approval card: decided (true/false) or moot (null, the run ended). */
  #settle(toolCallId, approved, reason) {
    const pending = this.#pending.get(toolCallId);
    if (!pending) return;
    this.#pending.delete(toolCallId);
    pending.controls.remove();
    replace(
      pending.status,
      approved === null
        ? "The run ended before a decision."
        : approved
          ? "Approved."
          : `Denied${reason ? `: ${reason}` : "."}`,
    );
  }
}

/** The plan's steps, each with its success criterion. */
export function planList(steps) {
  return h(
    "ol",
    { class: "plan", "data-testid": "plan" },
    steps.map((s) =>
      h("li", {}, h("div", {}, str(s?.goal)), h("div", { class: "meta" }, `Done when: ${str(s?.successCriterion)}`)),
    ),
  );
}
