// The dashboard's entry: the key prompt, the header and a hash router
// (#/runs, #/runs/<id>, #/agents, #/metrics/<window>). The page itself holds no data; each view
// reads the /v1 API with the key the user typed.

import { agentsView } from "./agents-view.js";
import { setUnauthorizedHandler } from "./api.js";
import { h, replace, tickAges } from "./dom.js";
import { currentKey, forgetKey, saveKey } from "./key.js";
import { metricsView } from "./metrics-view.js";
import { runView } from "./run-view.js";
import { runsView } from "./runs-view.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let stopView = () => {};

function keyPrompt(problem) {
  stopView();
  stopView = () => {};
  nav.hidden = true;
  const input = h("input", {
    type: "password",
    name: "key",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    "aria-label": "API key",
  });
  const form = h(
    "form",
    { class: "panel key-prompt", "data-testid": "key-prompt" },
    h("h1", {}, "API key"),
    h(
      "p",
      {},
      "Paste an API key to see its tenant's runs and agents. It is kept in this tab only (sessionStorage) and sent only to this server's /v1 API.",
    ),
    problem ? h("p", { class: "error-text", role: "alert", "data-testid": "key-error" }, problem) : null,
    h("label", {}, "Key", input),
    h("button", { type: "submit", class: "primary" }, "Open dashboard"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    saveKey(input.value.trim());
    route();
  });
  replace(main, form);
  input.focus();
}

/** A hash segment, decoded; a malformed escape is kept as typed (it will match no route). */
function decodePart(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function route() {
  stopView();
  stopView = () => {};
  if (!currentKey()) return keyPrompt(null);
  nav.hidden = false;
  const hash = location.hash.replace(/^#\/?/, "");
  const [section, id] = hash.split("/").map(decodePart);
  for (const link of nav.querySelectorAll("a[data-section]")) {
    link.classList.toggle("current", link.dataset.section === (section || "runs"));
  }
  if (!section || (section === "runs" && !id)) stopView = runsView(main);
  else if (section === "runs") stopView = runView(main, id);
  else if (section === "agents") stopView = agentsView(main);
  else if (section === "metrics") stopView = metricsView(main, id);
  else replace(main, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/runs" }, "Back to runs")));
}

setUnauthorizedHandler((err) => {
  forgetKey();
  keyPrompt(`The API refused this key (401 ${err.code}): ${err.message}`);
});

document.getElementById("forget-key").addEventListener("click", () => {
  forgetKey();
  keyPrompt(null);
});
window.addEventListener("hashchange", route);
setInterval(tickAges, 1_000);
route();
