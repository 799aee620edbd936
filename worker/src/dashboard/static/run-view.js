// The run page: the run's state from GET /v1/runs/:id, and its live timeline
// from the event stream. The state is fetched again (coalesced) whenever
// events arrive, so status, usage and result follow the run. A run that
// ended stops its stream; a message that continues it (message-box.js) starts
// following again from the last event shown.

import { api } from "./api.js";
import { ageEl, badge, byteSize, h, replace } from "./dom.js";
import { followRun } from "./events.js";
import { ImageStore, imageFigure, imageType } from "./images.js";
import { MessageBox } from "./message-box.js";
import { stoppedByText } from "./team-cards.js";
import { planList, Timeline } from "./timeline.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled", "timed_out"]);
const STREAM_TEXT = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  ended: "the run has ended",
  failed: "disconnected",
};

/** Token usage: the default team's planner and coder, or a team's participants, selector or orchestrator. */
function usageTable(usage) {
  const row = (label, u) =>
    h(
      "tr",
      { "data-role": label },
      h("th", { scope: "row" }, label),
      h("td", {}, String(u?.inputTokens ?? 0)),
      h("td", {}, String(u?.outputTokens ?? 0)),
    );
  return h(
    "table",
    { class: "usage", "data-testid": "usage" },
    h("thead", {}, h("tr", {}, h("th", {}, "tokens"), h("th", {}, "in"), h("th", {}, "out"))),
    h(
      "tbody",
      {},
      usage?.team && typeof usage.team === "object"
        ? Object.entries(usage.team).map(([name, u]) => row(name, u))
        : [row("planner", usage?.planner), row("coder", usage?.coder)],
      row("total", usage?.total),
    ),
  );
}

/** The files the run left, each with its size; the images among them shown inline. */
function resultFiles(result, images) {
  const manifest = Array.isArray(result.manifest) ? result.manifest : [];
  if (manifest.length === 0) return null;
  const shown = manifest.filter((f) => imageType(f?.path) && images.url(f.path));
  return h(
    "div",
    { class: "result-files" },
    h("h3", {}, "Files"),
    h(
      "ul",
      { class: "files", "data-testid": "result-files" },
      manifest.map((f) =>
        h("li", { "data-path": String(f?.path) }, h("code", {}, String(f?.path)), ` ${byteSize(f?.bytes)}`),
      ),
    ),
    shown.length
      ? h(
          "div",
          { class: "images" },
          shown.map((f) => imageFigure(f.path, images.url(f.path), "result-image", `${f.path} · ${byteSize(f.bytes)}`)),
        )
      : null,
  );
}

/** Renders run `id` into `root`; returns a function that stops its stream. */
export function runView(root, id) {
  const path = `/v1/runs/${encodeURIComponent(id)}`;
  const header = h("div", { class: "run-header" });
  const summary = h("section", { class: "panel" });
  const planSection = h("section", { class: "panel" });
  const streamState = h("span", { class: "stream-state", "data-testid": "stream-state" }, STREAM_TEXT.connecting);
  const list = h("ol", { class: "timeline", "data-testid": "timeline" });
  const message = h("p", { class: "error-text", role: "alert" });
  const timeline = new Timeline(list, { approve: (body) => api(`${path}/approval`, { body }) });
  const messageBox = new MessageBox(async (text) => {
    const run = await api(`${path}/messages`, { body: { text } });
    if (!stopped) show(run);
    // An ended run's stream has closed; its continuation (run.continued on) comes on a new one.
    follow();
    return run;
  });
  replace(
    root,
    h("p", {}, h("a", { href: "#/runs" }, "← Runs")),
    header,
    message,
    // The calls waiting for a decision, above the rest: a reply with several asks about each.
    timeline.waiting,
    summary,
    planSection,
    h("section", { class: "panel" }, h("h2", {}, "Timeline ", streamState), list),
    messageBox.el,
  );

  let stopped = false;
  const images = new ImageStore();
  let refreshing = null;
  let again = false;

  const show = (run) => {
    if (run.result) {
      images.update(run.result.files);
      timeline.showImages(images);
    }
    const cancel =
      TERMINAL.has(run.status) || stopped
        ? null
        : h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: async (ev) => {
                ev.currentTarget.disabled = true;
                try {
                  await api(`${path}/cancel`, { body: {} });
                } catch (err) {
                  replace(message, `Could not cancel: ${err.message}`);
                }
                refresh();
              },
            },
            "Cancel run",
          );
    const team = run.team && typeof run.team === "object" ? run.team : null;
    replace(
      header,
      h("h1", {}, "Run ", h("code", {}, run.id)),
      h(
        "div",
        { class: "run-status" },
        badge(run.status),
        team ? h("span", { class: "team-kind", "data-testid": "team-kind" }, `team ${team.kind}`) : null,
        " created ",
        ageEl(run.createdAt),
        cancel,
      ),
      run.status === "awaiting_input"
        ? h(
            "p",
            { class: "awaiting-input", "data-testid": "awaiting-input" },
            `Awaiting input: the team handed the conversation to you${team?.next ? `; ${team.next} answers next` : ""}. Write below.`,
          )
        : null,
    );
    messageBox.update(run.status);
    replace(
      summary,
      h("h2", {}, "Task"),
      h("p", { class: "prose", "data-testid": "task" }, run.task),
      h(
        "p",
        { class: "meta" },
        `${run.iterations} executions${run.currentStep !== null ? ` · on step ${run.currentStep + 1}` : ""}` +
          (team
            ? ` · ${team.messages} team ${team.messages === 1 ? "message" : "messages"}${team.next ? ` · next: ${team.next}` : ""}`
            : ""),
      ),
      run.traceId ? h("p", { class: "meta" }, "trace ", h("code", { "data-testid": "trace-id" }, run.traceId)) : null,
      usageTable(run.usage),
      run.error
        ? h("p", { class: "error-text", "data-testid": "run-error" }, `${run.error.reason}: ${run.error.message}`)
        : null,
      run.result
        ? h(
            "div",
            { class: "result", "data-testid": "result" },
            h("h2", {}, "Result"),
            h("p", { class: "prose" }, run.result.summary),
            stoppedByText(run.result.stoppedBy)
              ? h("p", { class: "meta", "data-testid": "result-stopped-by" }, stoppedByText(run.result.stoppedBy))
              : null,
            run.result.stdout ? h("pre", {}, run.result.stdout) : null,
            resultFiles(run.result, images),
          )
        : null,
    );
    // A team has no run-wide plan (a planner participant's shows in its message).
    planSection.hidden = Boolean(team) && !run.plan;
    replace(
      planSection,
      h("h2", {}, "Plan"),
      run.plan ? planList(run.plan) : h("p", { class: "meta" }, "No plan yet."),
    );
  };

  // One GET at a time; events that arrive meanwhile ask for one more after it.
  const refresh = async () => {
    if (stopped) return;
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = api(path)
      .then((run) => {
        if (!stopped) show(run);
      })
      .catch((err) => {
        if (!stopped) replace(message, `Could not load the run: ${err.message}`);
      });
    await refreshing;
    refreshing = null;
    if (again) {
      again = false;
      refresh();
    }
  };

  // The stream being followed (its stop function), or null once it ended; the last event shown.
  let stream = null;
  let lastSeq = 0;
  const follow = () => {
    if (stopped || stream) return;
    stream = followRun(id, {
      after: lastSeq,
      onEvent: (event) => {
        lastSeq = event.seq;
        timeline.add(event);
        // Output comes about ten times a second and changes nothing GET /v1/runs/:id shows.
        if (event.type !== "execution.output") refresh();
      },
      onState: (state, err) => {
        streamState.dataset.state = state;
        // How many times the stream has been opened: more than 1 means it resumed after a drop
        // (or was followed again after the run was continued).
        if (state === "live")
          streamState.dataset.connections = String(Number(streamState.dataset.connections ?? 0) + 1);
        replace(streamState, STREAM_TEXT[state] ?? state);
        if (state === "failed" && err) replace(message, `The event stream stopped: ${err.message}`);
        if (state === "ended" || state === "failed") stream = null;
        if (state === "ended") followOn();
      },
    });
  };
  // The stream closes after the page of events that holds a run.finished, and the client stops
  // at it; a run continued since (by this page or another caller) has events after it.
  const followOn = () =>
    api(`${path}/events?after=${lastSeq}&limit=1`)
      .then((page) => {
        if (Array.isArray(page?.events) && page.events.length > 0) follow();
      })
      .catch(() => {});

  refresh();
  follow();
  return () => {
    stopped = true;
    stream?.();
    images.revokeAll();
  };
}
