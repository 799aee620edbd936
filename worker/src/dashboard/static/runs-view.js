// The runs list (newest first, paged with the API's cursor, refreshed every
// few seconds) and the form that starts a run.

import { api } from "./api.js";
import { ageEl, badge, h, replace } from "./dom.js";

const PAGE = 20;
const POLL_MS = 5_000;
const TASK_MAX = 32 * 1024;

function row(run) {
  return h(
    "li",
    { class: "run-row", "data-run-id": run.id, "data-testid": "run-row" },
    h(
      "a",
      { href: `#/runs/${encodeURIComponent(run.id)}` },
      h("span", { class: "row-top" }, badge(run.status), ageEl(run.createdAt)),
      h("span", { class: "row-task" }, run.task),
      h("code", { class: "row-id" }, run.id),
    ),
  );
}

function newRunForm(onError) {
  const task = h("textarea", { name: "task", rows: 3, required: true, maxlength: TASK_MAX, "aria-label": "Task" });
  const planner = h(
    "select",
    { name: "planner", "aria-label": "Planner" },
    h("option", { value: "default" }, "default planner"),
    h("option", { value: "none" }, "no planner (one step)"),
  );
  const approval = h(
    "select",
    { name: "approval", "aria-label": "Approval" },
    h("option", { value: "never" }, "run code without asking"),
    h("option", { value: "always" }, "ask before each execution"),
  );
  const submit = h("button", { type: "submit", class: "primary" }, "Start run");
  const form = h(
    "form",
    { class: "panel new-run", "data-testid": "new-run" },
    h("h2", {}, "New run"),
    h("label", {}, "Task", task),
    h("div", { class: "form-row" }, h("label", {}, "Planner", planner), h("label", {}, "Approval", approval)),
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    onError("");
    try {
      const body = { task: task.value, approval: approval.value };
      if (planner.value === "none") body.planner = null;
      const created = await api("/v1/runs", { body });
      location.hash = `#/runs/${encodeURIComponent(created.id)}`;
    } catch (err) {
      onError(`Could not start the run: ${err.message}`);
      submit.disabled = false;
    }
  });
  return form;
}

/** Renders the runs page into `root`; returns a function that stops its polling. */
export function runsView(root) {
  const message = h("p", { class: "error-text", role: "alert" });
  const list = h("ol", { class: "runs", "data-testid": "runs" });
  const empty = h("p", { class: "meta" }, "Loading…");
  const more = h("button", { type: "button", hidden: true }, "Older runs");
  const rows = new Map();
  let cursor = null;
  let stopped = false;
  const setError = (text) => replace(message, text);

  replace(
    root,
    newRunForm(setError),
    message,
    h("section", { class: "panel" }, h("h1", {}, "Runs"), empty, list, more),
  );

  const put = (run, where) => {
    const fresh = row(run);
    const old = rows.get(run.id);
    rows.set(run.id, fresh);
    if (old) old.replaceWith(fresh);
    else if (where === "top") list.prepend(fresh);
    else list.append(fresh);
  };

  const load = async (first) => {
    try {
      const page = await api(
        `/v1/runs?limit=${PAGE}${first || !cursor ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      if (stopped) return;
      if (first) {
        // Newest first: walk the page oldest to newest so each new run lands on top.
        for (const run of [...page.runs].reverse()) put(run, rows.has(run.id) ? "" : "top");
        if (rows.size <= page.runs.length) cursor = page.nextCursor;
      } else {
        for (const run of page.runs) put(run, "bottom");
        cursor = page.nextCursor;
      }
      more.hidden = !cursor;
      replace(empty, rows.size === 0 ? "No runs yet." : "");
      setError("");
    } catch (err) {
      if (!stopped) setError(`Could not load runs: ${err.message}`);
    }
  };
  more.addEventListener("click", () => load(false));
  load(true);
  const timer = setInterval(() => load(true), POLL_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
