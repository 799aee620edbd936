// The timeline cards of a team's run (issue 14): each message to the team with
// its speaker, a participant's intermediate replies, the selector's picks, the
// orchestrator's ledgers, and the caller's follow-ups. Payload shapes are those
// of shared/src/events.ts; like the rest of the timeline, every field is read,
// not trusted, and set as text.

import { badge, card, duration, h, num, str } from "./dom.js";

const list = (v) => (Array.isArray(v) ? v : []);
const names = (v) => list(v).filter((n) => typeof n === "string");

/** "12 in / 5 out tokens", or "" when there is no usage (the caller's messages, a handoff). */
export function usageText(usage) {
  if (!usage || typeof usage !== "object") return "";
  return `${num(usage.inputTokens) ?? 0} in / ${num(usage.outputTokens) ?? 0} out tokens`;
}

/** The visible name of who spoke: a participant, or the user. */
export function speakerLabel(name) {
  const speaker = str(name) || "?";
  return h("span", { class: `speaker${speaker === "user" ? " speaker-user" : ""}`, "data-speaker": speaker }, speaker);
}

/**
 * One termination condition (or the orchestrator's verdict) in words:
 * `{textMention: "APPROVE", sources: ["reviewer"]}` is `"APPROVE" said by reviewer`.
 */
export function conditionText(c) {
  if (!c || typeof c !== "object") return "?";
  if (num(c.maxMessages) !== null) return `${c.maxMessages} messages`;
  if (typeof c.textMention === "string") {
    const by = names(c.sources);
    return `"${c.textMention}" said${by.length ? ` by ${by.join(", ")}` : ""}`;
  }
  if (num(c.tokenUsage) !== null) return `${c.tokenUsage} tokens used`;
  if (num(c.timeoutMs) !== null) return `${duration(c.timeoutMs)} passed`;
  if (typeof c.handoff === "string") return `a handoff to ${c.handoff}`;
  if (typeof c.functionCall === "string") return `a call to ${c.functionCall}`;
  if (Array.isArray(c.any)) return `any of (${c.any.map(conditionText).join("; ")})`;
  if (Array.isArray(c.all)) return `all of (${c.all.map(conditionText).join("; ")})`;
  if (typeof c.requestSatisfied === "string")
    return `the orchestrator found the request satisfied: ${c.requestSatisfied}`;
  return "?";
}

/** What stopped a team, from run.finished's or the result's `stoppedBy`; null when it names nothing. */
export function stoppedByText(stoppedBy) {
  const conditions = list(stoppedBy);
  return conditions.length ? `Stopped by ${conditions.map(conditionText).join(" and ")}` : null;
}

/** run.created's team: its kind, who takes part with which model, and when it stops. */
export function teamSummary(team, history) {
  const models = (m) => [str(m?.provider), str(m?.model)].filter(Boolean).join(" ");
  const extra = [
    team.selector ? `selector ${models(team.selector.model)}` : null,
    team.orchestrator ? `orchestrator ${models(team.orchestrator.model)}` : null,
  ].filter(Boolean);
  const earlier = list(history).length;
  return [
    h(
      "ul",
      { class: "participants", "data-testid": "participants" },
      list(team.participants).map((p) =>
        h(
          "li",
          { "data-participant": str(p?.name) },
          speakerLabel(p?.name),
          ` ${str(p?.role)} · ${models(p?.model)}`,
          names(p?.handoffs).length ? ` · hands off to ${names(p.handoffs).join(", ")}` : "",
        ),
      ),
    ),
    h(
      "p",
      { class: "meta" },
      [
        ...extra,
        `stops at ${conditionText(team.termination)}${team.defaultTermination ? " (the default)" : ""}`,
        earlier ? `continues ${earlier} earlier ${earlier === 1 ? "message" : "messages"}` : null,
      ]
        .filter(Boolean)
        .join(" · "),
    ),
  ];
}

/** One tool call of a turn as the team saw it: its outcome and its output's excerpt. */
function toolCallSummary(call) {
  const exit = num(call?.exitCode);
  const files = names(call?.files);
  return h(
    "div",
    { class: "code tool-summary", "data-testid": "tool-summary", "data-tool-call-id": str(call?.id) },
    h(
      "div",
      { class: "code-title" },
      `${str(call?.name)} (${str(call?.id)}) `,
      badge(str(call?.status)),
      exit !== null ? ` exit code ${exit}` : "",
    ),
    str(call?.stdout) ? h("pre", { class: "stream-stdout", "data-testid": "stdout" }, call.stdout) : null,
    str(call?.stderr) ? h("pre", { class: "stream-stderr", "data-testid": "stderr" }, call.stderr) : null,
    files.length ? h("p", { class: "meta" }, `Files written: ${files.join(", ")}`) : null,
  );
}

/** team.message: the speaker, its text, what its tool calls did, and whom it handed the conversation to. */
export function teamMessage(p, planList) {
  const calls = list(p.toolCalls);
  const el = card(
    "team-message",
    h(
      "span",
      {},
      speakerLabel(p.speaker),
      str(p.handoff) ? h("span", { class: "handoff", "data-testid": "handoff" }, ` → ${p.handoff}`) : null,
      " ",
      h("span", { class: "meta" }, usageText(p.usage)),
    ),
    str(p.text) ? h("p", { class: "prose message-text" }, p.text) : null,
    calls.map(toolCallSummary),
    list(p.plan).length ? planList(p.plan) : null,
  );
  el.dataset.testid = "team-message";
  el.dataset.speaker = str(p.speaker);
  return el;
}

/** participant.replied: a reply in the middle of a turn, with the tool calls it made (`toolCall` renders one). */
export function participantReply(p, toolCall) {
  const dropped = num(p.droppedToolCalls);
  const el = card(
    "participant-reply",
    h("span", {}, speakerLabel(p.speaker), " ", h("span", { class: "meta" }, `working · ${usageText(p.usage)}`)),
    str(p.text) ? h("p", { class: "prose" }, p.text) : null,
    list(p.toolCalls).map((call) => toolCall(call, str(p.speaker))),
    dropped ? h("p", { class: "meta" }, `${dropped} more tool calls dropped (past the most one reply may make)`) : null,
  );
  el.dataset.speaker = str(p.speaker);
  return el;
}

/** team.selected: whom the selector picked, an answer that named no one, or the fallback to the next in turn. */
export function selected(p) {
  const speaker = str(p.speaker);
  const attempt = num(p.attempt) ?? 1;
  let title;
  let kind = "pick";
  if (p.by === "fallback") {
    kind = "fallback";
    title = h(
      "span",
      {},
      `No valid pick after ${attempt - 1} attempts: `,
      speakerLabel(speaker),
      " speaks, next in turn",
    );
  } else if (speaker) {
    title = h("span", {}, "selector picks ", speakerLabel(speaker));
  } else {
    kind = "invalid";
    title = h("span", {}, `selector's pick names no participant (attempt ${attempt})`);
  }
  const el = card(
    "selected",
    title,
    kind === "invalid" ? h("p", {}, "It said: ", h("q", { "data-testid": "said" }, str(p.said) || "(nothing)")) : null,
    h(
      "p",
      { class: "meta" },
      [`candidates: ${names(p.candidates).join(", ")}`, usageText(p.usage)].filter(Boolean).join(" · "),
    ),
  );
  el.dataset.testid = "selection";
  el.dataset.pick = kind;
  return el;
}

const yesNo = (v) => (v === true ? "yes" : v === false ? "no" : "?");

function answer(label, value, reason, field) {
  return h(
    "div",
    { class: "fact", "data-field": field },
    h("dt", {}, label),
    h("dd", {}, h("strong", {}, value), str(reason) ? h("span", { class: "meta" }, ` ${reason}`) : null),
  );
}

/** team.ledger: the orchestrator's task ledger (facts and plan), or its progress ledger after a turn. */
export function ledger(p) {
  if (p.kind === "task") {
    const el = card(
      "ledger",
      h(
        "span",
        {},
        p.replan ? "Task ledger, planned again " : "Task ledger ",
        h("span", { class: "meta" }, usageText(p.usage)),
      ),
      h("h3", {}, "Facts"),
      h("p", { class: "prose", "data-testid": "ledger-facts" }, str(p.facts)),
      h("h3", {}, "Plan"),
      h("p", { class: "prose", "data-testid": "ledger-plan" }, str(p.plan)),
    );
    el.dataset.testid = "ledger";
    el.dataset.ledger = "task";
    return el;
  }
  const next = str(p.nextSpeaker?.answer);
  const speaker = str(p.speaker);
  const el = card(
    "ledger",
    h(
      "span",
      {},
      "Progress ledger: next ",
      speakerLabel(speaker),
      " ",
      h("span", { class: "meta" }, usageText(p.usage)),
    ),
    h(
      "dl",
      { class: "facts ledger-answers" },
      answer("request satisfied", yesNo(p.isRequestSatisfied?.answer), p.isRequestSatisfied?.reason, "satisfied"),
      answer("progress being made", yesNo(p.isProgressBeingMade?.answer), p.isProgressBeingMade?.reason, "progress"),
      answer("in a loop", yesNo(p.isInLoop?.answer), p.isInLoop?.reason, "loop"),
      answer("next speaker", next || "(none)", p.nextSpeaker?.reason, "next-speaker"),
      answer("instruction", str(p.instruction?.answer) || "(none)", p.instruction?.reason, "instruction"),
      answer("stalls", String(num(p.stalls) ?? 0), "", "stalls"),
    ),
    next !== speaker
      ? h("p", { class: "meta" }, `${next || "No one"} is not a participant: ${speaker} speaks, next in turn`)
      : null,
  );
  el.dataset.testid = "ledger";
  el.dataset.ledger = "progress";
  return el;
}

/** run.continued: the caller's follow-up, which takes an ended run up again. */
export function continued(p) {
  const el = card(
    "continued",
    h(
      "span",
      {},
      "Follow-up from ",
      speakerLabel("user"),
      h("span", { class: "meta" }, ` task turn ${(num(p.turn) ?? 0) + 1}`),
    ),
    h("p", { class: "prose message-text" }, str(p.text)),
  );
  el.dataset.testid = "follow-up";
  return el;
}
