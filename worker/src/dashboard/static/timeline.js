// The run's timeline: one card per event, in log order, except that an
// execution's events (started, its output, finished) share one card (see
// execution-card.js). A team's own events have their cards in team-cards.js.
// Payload shapes are those of shared/src/events.ts;
// anything missing or of the wrong type is shown as absent rather than trusted.

import { ApprovalCards } from "./approval-card.js";
import { diffStats, lineDiff } from "./diff.js";
import { badge, card, duration, h, num, str } from "./dom.js";
import { ExecutionCards } from "./execution-card.js";
import {
  continued,
  ledger,
  participantReply,
  selected,
  stoppedByText,
  teamMessage,
  teamSummary,
} from "./team-cards.js";

/** A swarm participant's handoff tools are `transfer_to_<name>` (worker/src/team/loop.ts). */
const HANDOFF_PREFIX = "transfer_to_";

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
 * Renders events into `list` (an <ol>). `approve(body)` posts an approval
 * body (`{approve, reason?, toolCallId}`) and resolves or throws an ApiError.
 * `waiting` is the list of calls waiting for a decision, for the page to place.
 */
export class Timeline {
  #list;
  #approvals;
  #steps = [];
  /** Each speaker's code so far (the default team's coder is ""): how many versions, and the last. */
  #code = new Map();
  #executions = new ExecutionCards();
  /** Events taken in: with the cards' seqs, what a test checks to see none was missed or repeated. */
  #seen = 0;

  constructor(list, { approve }) {
    this.#list = list;
    this.#approvals = new ApprovalCards(approve);
  }

  /** The waiting list (hidden while no call waits). */
  get waiting() {
    return this.#approvals.waiting;
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
        if (p.team && typeof p.team === "object") {
          return card(
            "created",
            `Run created · team ${str(p.team.kind)}`,
            h(
              "p",
              { class: "meta" },
              `approval: ${str(p.approval)} · at most ${num(p.maxIterations) ?? "?"} executions`,
            ),
            teamSummary(p.team, p.history),
          );
        }
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
      case "participant.replied":
        return participantReply(p, (call, speaker) => this.#toolCall(call, speaker));
      case "team.message":
        return teamMessage(p, planList);
      case "team.selected":
        return selected(p);
      case "team.ledger":
        return ledger(p);
      case "run.continued":
        return continued(p);
      case "tool.rejected":
        return card("rejected", `Tool call rejected: ${str(p.name)}`, pre(str(p.message)));
      case "approval.requested":
        return this.#approvals.requested(p);
      case "approval.decided": {
        this.#approvals.decided(p);
        return card(
          "decided",
          h(
            "span",
            {},
            p.approve ? "Execution approved " : "Execution denied ",
            h("span", { class: "meta" }, str(p.toolCallId)),
          ),
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
      case "run.finished": {
        this.#approvals.endAll();
        this.#executions.endAll();
        const stopped = stoppedByText(p.stoppedBy);
        return card(
          "finished",
          h("span", {}, "Run finished ", badge(str(p.status))),
          p.reason || p.message ? h("p", {}, [str(p.reason), str(p.message)].filter(Boolean).join(": ")) : null,
          stopped ? h("p", { "data-testid": "stopped-by" }, stopped) : null,
        );
      }
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

  /** One tool call of a reply; a run_code call is shown as a diff against the same speaker's last code. */
  #toolCall(call, speaker = "") {
    const input = call && typeof call.input === "object" && call.input !== null ? call.input : {};
    if (call?.name === "run_code" && typeof input.code === "string") {
      const before = this.#code.get(speaker) ?? { versions: 0, last: null };
      const version = before.versions + 1;
      const language = str(input.language) || "python";
      const previous = before.last;
      this.#code.set(speaker, { versions: version, last: input.code });
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
    // A swarm's handoff: its tool takes no arguments, the name says it all.
    if (str(call?.name).startsWith(HANDOFF_PREFIX)) {
      return h("div", { class: "code handoff" }, `Hands off to ${str(call.name).slice(HANDOFF_PREFIX.length)}`);
    }
    return h(
      "div",
      { class: "code" },
      h("div", { class: "code-title" }, `Tool call: ${str(call?.name)}`),
      pre(str(call?.raw) || JSON.stringify(input, null, 2)),
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
