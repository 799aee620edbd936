// The agents page: each connected sandbox agent, refreshed every few seconds.

import { api } from "./api.js";
import { ageEl, h, replace } from "./dom.js";

const POLL_MS = 5_000;
/** The Worker drops an agent after 15 s without a heartbeat; one is due every 5 s. */
const STALE_MS = 12_000;

const mib = (bytes) => `${(bytes / (1024 * 1024)).toFixed(0)} MiB`;

function fact(label, ...value) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, ...value));
}

function agentCard(a) {
  const stale = Date.now() - Date.parse(a.lastHeartbeatAt) > STALE_MS;
  const health = a.health;
  return h(
    "li",
    { class: "panel agent", "data-testid": "agent", "data-agent-id": a.id },
    h(
      "div",
      { class: "row-top" },
      h("strong", {}, a.id),
      h("span", { class: `badge ${stale ? "badge-failed" : "badge-succeeded"}` }, stale ? "silent" : "healthy"),
    ),
    h(
      "dl",
      { class: "facts" },
      fact("pool", a.pool),
      fact("in use", `${a.inFlight} of ${a.capacity}`),
      fact("last heartbeat", ageEl(a.lastHeartbeatAt)),
      fact("connected", ageEl(a.connectedAt)),
      fact("languages", (a.languages ?? []).join(", ")),
      fact("version", a.version),
      health ? fact("memory", `${mib(health.rssBytes)} RSS`) : null,
      health ? fact("loop delay p99", `${health.loopDelayP99Ms.toFixed(1)} ms`) : null,
      health ? fact("warm sandboxes", String(health.warm)) : null,
    ),
  );
}

/** Renders the agents page into `root`; returns a function that stops its polling. */
export function agentsView(root) {
  const list = h("ul", { class: "agents", "data-testid": "agents" });
  const note = h("p", { class: "meta" }, "Loading…");
  const message = h("p", { class: "error-text", role: "alert" });
  replace(root, h("h1", {}, "Agents"), message, note, list);
  let stopped = false;
  const load = async () => {
    try {
      const { agents } = await api("/v1/agents");
      if (stopped) return;
      replace(list, agents.map(agentCard));
      replace(note, agents.length === 0 ? "No agent is connected to your pools." : "");
      replace(message, "");
    } catch (err) {
      if (!stopped) replace(message, `Could not load agents: ${err.message}`);
    }
  };
  load();
  const timer = setInterval(load, POLL_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
