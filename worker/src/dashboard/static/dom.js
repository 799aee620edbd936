// Small DOM helpers. Everything that came from the API (task text, program
// output, model replies) is set with textContent or as an attribute value,
// never parsed as HTML.

/**
 * Builds an element: `h("p", { class: "note" }, "text", child)`. Props are
 * attributes (`on*` props are listeners); children are nodes or strings
 * (strings become text nodes). Null and false children are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** "12 s ago", "3 min ago", … for an ISO time. */
export function age(iso, now = Date.now()) {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return "—";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** A <time> that shows its age and keeps it current (see tickAges). */
export function ageEl(iso) {
  return h("time", { datetime: iso, title: iso, "data-age": "" }, age(iso));
}

/** Refreshes every age on the page; app.js calls it once a second. */
export function tickAges() {
  const now = Date.now();
  for (const el of document.querySelectorAll("time[data-age]")) {
    el.textContent = age(el.getAttribute("datetime"), now);
  }
}

/** "850 ms", "2.4 s". */
export function duration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A status pill, styled by its value. */
export function badge(status) {
  return h("span", { class: `badge badge-${String(status).replace(/[^a-z_]/g, "")}`, "data-status": status }, status);
}

/** A timeline entry: an <li> with its title, then its body. */
export function card(kind, title, ...body) {
  return h(
    "li",
    { class: `event event-${kind}`, "data-kind": kind },
    h("div", { class: "event-title" }, title),
    ...body,
  );
}

/** A payload's field as a string, or "" when it is not one (payloads are read, not trusted). */
export const str = (v) => (typeof v === "string" ? v : "");

/** A payload's field as a finite number, or null. */
export const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** "812 B", "12.3 KiB", "1.4 MiB". */
export function byteSize(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "—";
  if (n < 1024) return `${n} B`;
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
