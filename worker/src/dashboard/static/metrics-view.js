// The metrics page: GET /v1/stats for the chosen window, drawn as SVG charts
// (no chart library, nothing fetched from elsewhere). Colours come from
// classes in style.css, as the page's CSP allows no inline style.

import { api } from "./api.js";
import { h, replace } from "./dom.js";

const POLL_MS = 15_000;
const WINDOWS = ["15m", "1h", "24h"];
const STATUSES = ["succeeded", "failed", "timed_out", "oom_killed", "cancelled", "error"];
const SVG = "http://www.w3.org/2000/svg";

/** An SVG element with attributes (values set as attributes, never parsed). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) if (child) el.append(child instanceof Node ? child : document.createTextNode(child));
  return el;
}

const W = 600;
const H = 180;
const PAD = { left: 44, right: 8, top: 8, bottom: 22 };

function frame(label, max, points, unit) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "chart" });
  const innerH = H - PAD.top - PAD.bottom;
  for (const f of [0, 0.5, 1]) {
    const y = PAD.top + innerH * (1 - f);
    svg.append(s("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }));
    svg.append(s("text", { x: PAD.left - 4, y: y + 4, class: "axis", "text-anchor": "end" }, fmt(max * f, unit)));
  }
  if (points.length > 0) {
    for (const i of [0, points.length - 1]) {
      const x = xAt(i, points.length);
      const at = new Date(points[i].at);
      const text = `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
      svg.append(s("text", { x, y: H - 6, class: "axis", "text-anchor": i === 0 ? "start" : "end" }, text));
    }
  }
  return svg;
}

function xAt(i, n) {
  const innerW = W - PAD.left - PAD.right;
  return PAD.left + (n <= 1 ? innerW / 2 : (innerW * i) / (n - 1));
}

function yAt(v, max) {
  const innerH = H - PAD.top - PAD.bottom;
  return PAD.top + innerH * (1 - (max > 0 ? v / max : 0));
}

function fmt(v, unit) {
  if (unit === "%") return `${Math.round(v)}%`;
  if (unit === "ms") return v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)} s` : `${Math.round(v)} ms`;
  return v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1);
}

/** Stacked bars per point, one colour per status. */
function stackedBars(label, points, key) {
  const totals = points.map((p) => Object.values(p[key]).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const svg = frame(label, max, points, "");
  const innerW = W - PAD.left - PAD.right;
  const bar = Math.max(1, (innerW / Math.max(1, points.length)) * 0.7);
  points.forEach((p, i) => {
    let base = 0;
    for (const status of STATUSES) {
      const n = p[key][status] ?? 0;
      if (!n) continue;
      const y0 = yAt(base, max);
      const y1 = yAt(base + n, max);
      const x = points.length <= 1 ? xAt(0, 1) - bar / 2 : PAD.left + (innerW * i) / points.length;
      svg.append(
        s(
          "rect",
          { x, y: y1, width: bar, height: Math.max(0.5, y0 - y1), class: `fill-${status}` },
          s("title", {}, `${status}: ${n}`),
        ),
      );
      base += n;
    }
  });
  return svg;
}

/** One line per series: [{name, values}] over the points. */
function lines(label, points, series, unit) {
  const max = Math.max(1, ...series.flatMap((l) => l.values));
  const svg = frame(label, max, points, unit);
  for (const [i, line] of series.entries()) {
    const d = line.values.map(
      (v, j) => `${j === 0 ? "M" : "L"}${xAt(j, line.values.length).toFixed(1)},${yAt(v, max).toFixed(1)}`,
    );
    svg.append(s("path", { d: d.join(" "), class: `line line-${i}` }, s("title", {}, line.name)));
  }
  return svg;
}

/** Horizontal bars for named totals: [{name, parts: [{label, value, cls}]}]. */
function barList(label, rows) {
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((a, p) => a + p.value, 0)));
  const list = h("ul", { class: "bar-list", "aria-label": label });
  for (const row of rows) {
    const total = row.parts.reduce((a, p) => a + p.value, 0);
    const track = s("svg", { viewBox: "0 0 100 8", preserveAspectRatio: "none", class: "bar-track" });
    let x = 0;
    for (const part of row.parts) {
      const w = (100 * part.value) / max;
      track.append(
        s("rect", { x, y: 0, width: w, height: 8, class: part.cls }, s("title", {}, `${part.label}: ${part.value}`)),
      );
      x += w;
    }
    list.append(
      h(
        "li",
        { "data-testid": "bar", "data-name": row.name },
        h("span", { class: "bar-name" }, row.name),
        track,
        h("span", { class: "bar-value" }, row.parts.map((p) => `${p.label} ${p.value}`).join(" · ") || String(total)),
      ),
    );
  }
  if (rows.length === 0) list.append(h("li", { class: "meta" }, "None in this window."));
  return list;
}

function figure(name, value, testid) {
  return h("div", { class: "figure" }, h("dt", {}, name), h("dd", { "data-testid": testid }, value));
}

function legend() {
  return h(
    "p",
    { class: "legend" },
    STATUSES.map((st) => h("span", { class: `key key-${st}` }, st)),
  );
}

function card(title, ...body) {
  return h("section", { class: "panel chart-card" }, h("h2", {}, title), ...body);
}

function render(stats) {
  const ex = stats.executions;
  const failed = ex.total - (ex.byStatus.succeeded ?? 0);
  const errorRate = ex.total ? (100 * failed) / ex.total : 0;
  const perPointRate = stats.series.map((p) => {
    const total = Object.values(p.executions).reduce((a, b) => a + b, 0);
    return total ? (100 * (total - (p.executions.succeeded ?? 0))) / total : 0;
  });
  const tokens = (map) =>
    Object.entries(map)
      .sort((a, b) => b[1].input + b[1].output - (a[1].input + a[1].output))
      .map(([name, t]) => ({
        name,
        parts: [
          { label: "in", value: t.input, cls: "fill-input" },
          { label: "out", value: t.output, cls: "fill-output" },
        ],
      }));
  return [
    h(
      "dl",
      { class: "figures panel" },
      figure("executions", String(ex.total), "executions-total"),
      figure("not succeeded", `${errorRate.toFixed(1)}%`, "error-rate"),
      figure(
        "p50 / p95 / p99",
        `${fmt(ex.durationMs.p50, "ms")} / ${fmt(ex.durationMs.p95, "ms")} / ${fmt(ex.durationMs.p99, "ms")}`,
        "execution-latency",
      ),
      figure("runs", String(stats.runs.total), "runs-total"),
      figure(
        "run p50 / p95 / p99",
        `${fmt(stats.runs.durationMs.p50, "ms")} / ${fmt(stats.runs.durationMs.p95, "ms")} / ${fmt(stats.runs.durationMs.p99, "ms")}`,
        "run-latency",
      ),
    ),
    h(
      "div",
      { class: "charts" },
      card(
        `Executions per ${stats.stepMinutes === 1 ? "minute" : `${stats.stepMinutes} minutes`}, by status`,
        legend(),
        stackedBars("executions by status", stats.series, "executions"),
      ),
      card(
        "Not succeeded, %",
        lines("error rate", stats.series, [{ name: "not succeeded", values: perPointRate }], "%"),
      ),
      card(
        "Execution latency",
        lines(
          "execution latency",
          stats.series,
          ["p50", "p95", "p99"].map((q) => ({ name: q, values: stats.series.map((p) => p.executionMs[q]) })),
          "ms",
        ),
        h(
          "p",
          { class: "legend" },
          h("span", { class: "key key-line-0" }, "p50"),
          h("span", { class: "key key-line-1" }, "p95"),
          h("span", { class: "key key-line-2" }, "p99"),
        ),
      ),
      card(
        "Run latency",
        lines(
          "run latency",
          stats.series,
          ["p50", "p95", "p99"].map((q) => ({ name: q, values: stats.series.map((p) => p.runMs[q]) })),
          "ms",
        ),
      ),
      card(
        "Runs by outcome",
        barList(
          "runs by outcome",
          Object.entries(stats.runs.byStatus).map(([name, n]) => ({
            name,
            parts: [{ label: "runs", value: n, cls: `fill-${name}` }],
          })),
        ),
      ),
      card("Tokens by role", barList("tokens by role", tokens(stats.tokens.byRole))),
      card("Tokens by model", barList("tokens by model", tokens(stats.tokens.byModel))),
      card(
        "Agents",
        barList(
          "agents",
          stats.agents.map((a) => ({
            name: a.id,
            parts: [
              { label: "ok", value: a.executions - a.errors, cls: "fill-succeeded" },
              { label: "errors", value: a.errors, cls: "fill-error" },
            ],
          })),
        ),
      ),
    ),
  ];
}

/** Renders the metrics page into `root`; returns a function that stops its polling. */
export function metricsView(root, window = "1h") {
  const chosen = WINDOWS.includes(window) ? window : "1h";
  const picker = h(
    "nav",
    { class: "window-picker", "aria-label": "window" },
    WINDOWS.map((w) => h("a", { href: `#/metrics/${w}`, class: w === chosen ? "current" : "", "data-window": w }, w)),
  );
  const body = h("div", { "data-testid": "metrics" }, h("p", { class: "meta" }, "Loading…"));
  const message = h("p", { class: "error-text", role: "alert" });
  replace(root, h("h1", {}, "Metrics"), picker, message, body);
  let stopped = false;
  const load = async () => {
    try {
      const stats = await api(`/v1/stats?window=${chosen}`);
      if (stopped) return;
      replace(body, render(stats));
      body.dataset.loaded = "true";
      replace(message, "");
    } catch (err) {
      if (!stopped) replace(message, `Could not load metrics: ${err.message}`);
    }
  };
  load();
  const timer = setInterval(load, POLL_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
