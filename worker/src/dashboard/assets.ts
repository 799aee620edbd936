import agentsView from "./static/agents-view.js";
import api from "./static/api.js";
import apiDocsCss from "./static/api-docs.css";
import apiDocsHtml from "./static/api-docs.html";
import apiDocs from "./static/api-docs.js";
import app from "./static/app.js";
import approvalCard from "./static/approval-card.js";
import diff from "./static/diff.js";
import dom from "./static/dom.js";
import events from "./static/events.js";
import executionCard from "./static/execution-card.js";
import images from "./static/images.js";
import indexHtml from "./static/index.html";
import key from "./static/key.js";
import liveOutput from "./static/live-output.js";
import messageBox from "./static/message-box.js";
import metricsView from "./static/metrics-view.js";
import runView from "./static/run-view.js";
import runsView from "./static/runs-view.js";
import style from "./static/style.css";
import teamCards from "./static/team-cards.js";
import timeline from "./static/timeline.js";

/** One file the dashboard serves: its text and its media type. */
export interface Asset {
  body: string;
  type: string;
}

const JS = "text/javascript; charset=utf-8";

/** The page at `/`. */
export const INDEX: Asset = { body: indexHtml, type: "text/html; charset=utf-8" };

/** The API reference at `/docs`: it renders GET /v1/openapi.json (api-docs.js). */
export const DOCS: Asset = { body: apiDocsHtml, type: "text/html; charset=utf-8" };

/**
 * The files under `/dashboard/`, by name. A fixed table, not a lookup on the
 * file system: a name that is not here is a 404.
 */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["style.css", { body: style, type: "text/css; charset=utf-8" }],
  ["agents-view.js", { body: agentsView, type: JS }],
  ["api.js", { body: api, type: JS }],
  ["api-docs.css", { body: apiDocsCss, type: "text/css; charset=utf-8" }],
  ["api-docs.js", { body: apiDocs, type: JS }],
  ["approval-card.js", { body: approvalCard, type: JS }],
  ["app.js", { body: app, type: JS }],
  ["diff.js", { body: diff, type: JS }],
  ["dom.js", { body: dom, type: JS }],
  ["events.js", { body: events, type: JS }],
  ["execution-card.js", { body: executionCard, type: JS }],
  ["images.js", { body: images, type: JS }],
  ["key.js", { body: key, type: JS }],
  ["live-output.js", { body: liveOutput, type: JS }],
  ["message-box.js", { body: messageBox, type: JS }],
  ["metrics-view.js", { body: metricsView, type: JS }],
  ["run-view.js", { body: runView, type: JS }],
  ["runs-view.js", { body: runsView, type: JS }],
  ["team-cards.js", { body: teamCards, type: JS }],
  ["timeline.js", { body: timeline, type: JS }],
]);
