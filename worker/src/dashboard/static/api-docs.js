// The API reference at /docs: renders GET /v1/openapi.json, from this origin
// only. Every text of the document is set with textContent (through h), never
// parsed as HTML.

import { h, replace } from "./dom.js";

const REF = "#/components/schemas/";
const METHODS = ["get", "post", "put", "patch", "delete"];

/** The component name a `$ref` points to, or null. */
export function refName(schema) {
  const ref = schema && typeof schema.$ref === "string" ? schema.$ref : "";
  return ref.startsWith(REF) ? ref.slice(REF.length) : null;
}

/**
 * A schema's type in a few words: `string`, `integer ≥ 1`, `RunView`,
 * `array of WorkspaceFile`, `"a" | "b"`, `string | null`.
 */
export function typeText(schema) {
  if (!schema || typeof schema !== "object") return "any";
  const name = refName(schema);
  if (name) return name;
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return alternatives.map(typeText).join(" | ");
  if (Array.isArray(schema.allOf)) return schema.allOf.map(typeText).join(" & ");
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type;
  if (type === "array") return `array of ${typeText(schema.items)}`;
  if (type === "object" && !schema.properties && schema.additionalProperties) {
    return `map of ${typeText(schema.additionalProperties)}`;
  }
  // zod bounds every integer by the safe range; only bounds of the API's own are worth showing.
  const bound = (n) => typeof n === "number" && Math.abs(n) !== Number.MAX_SAFE_INTEGER;
  const bounds = [];
  if (bound(schema.minimum)) bounds.push(`≥ ${schema.minimum}`);
  if (bound(schema.maximum)) bounds.push(`≤ ${schema.maximum}`);
  if (typeof schema.maxLength === "number") bounds.push(`≤ ${schema.maxLength} chars`);
  if (typeof schema.pattern === "string") bounds.push(`/${schema.pattern}/`);
  return [type ?? "any", ...bounds].join(" ");
}

/** A type, with a link when it names a component. */
function typeEl(schema) {
  const name = refName(schema);
  if (name) return h("a", { class: "type", href: `#schema-${name}` }, name);
  return h("span", { class: "type" }, typeText(schema));
}

/** The schemas inside `schema` whose fields are worth listing: its object, its array's items, its alternatives. */
function inner(schema) {
  if (!schema || typeof schema !== "object" || refName(schema)) return [];
  if (schema.properties) return [schema];
  if (schema.items) return inner(schema.items);
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    return inner(schema.additionalProperties);
  }
  return [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])].flatMap(inner);
}

/** An object's fields as a nested list, `depth` levels down at most. */
function fields(schema, depth = 0) {
  const lists = inner(schema).map((object) => {
    const required = new Set(object.required ?? []);
    return h(
      "ul",
      { class: "props" },
      Object.entries(object.properties ?? {}).map(([name, prop]) =>
        h(
          "li",
          {},
          h("span", { class: "prop-name" }, name),
          typeEl(prop),
          required.has(name) ? h("span", { class: "req" }, "required") : null,
          "default" in prop ? h("span", { class: "type" }, `default ${JSON.stringify(prop.default)}`) : null,
          prop.description ? h("div", { class: "desc muted" }, prop.description) : null,
          depth < 4 ? fields(prop, depth + 1) : null,
        ),
      ),
    );
  });
  return lists.length ? lists : null;
}

function schemaBlock(schema) {
  return h("div", {}, typeEl(schema), fields(schema));
}

function examples(media) {
  return Object.entries(media.examples ?? {}).map(([name, example]) =>
    h(
      "details",
      {},
      h("summary", {}, `Example: ${example.summary ?? name}`),
      h("pre", {}, JSON.stringify(example.value, null, 2)),
    ),
  );
}

function content(doc, node) {
  const response = resolve(doc, node);
  return Object.entries(response.content ?? {}).map(([type, media]) =>
    h("div", {}, h("code", {}, type), schemaBlock(media.schema), examples(media)),
  );
}

/** A `$ref` to a response (or anything) followed within the document. */
function resolve(doc, node) {
  if (!node || typeof node.$ref !== "string") return node ?? {};
  return node.$ref
    .replace(/^#\//, "")
    .split("/")
    .reduce((at, part) => at?.[part.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
}

function operationEl(doc, path, method, op) {
  const secured = (op.security ?? doc.security ?? []).flatMap((s) => Object.keys(s));
  return h(
    "details",
    { class: "op", id: `op-${op.operationId}` },
    h(
      "summary",
      {},
      h("span", { class: "method" }, method.toUpperCase()),
      h("span", { class: "path" }, path),
      h("span", { class: "summary" }, op.summary ?? ""),
      secured.length ? h("span", { class: "lock" }, `auth: ${secured.join(", ")}`) : null,
    ),
    op.description ? h("p", { class: "desc" }, op.description) : null,
    op.parameters?.length
      ? h(
          "table",
          {},
          h("tr", {}, h("th", {}, "parameter"), h("th", {}, "in"), h("th", {}, "type"), h("th", {}, "")),
          op.parameters.map((p) =>
            h(
              "tr",
              {},
              h("td", {}, h("code", {}, p.name), p.required ? h("span", { class: "req" }, "required") : null),
              h("td", {}, p.in),
              h("td", {}, typeEl(p.schema)),
              h("td", {}, p.description ?? ""),
            ),
          ),
        )
      : null,
    op.requestBody ? h("div", {}, h("h3", {}, "Body"), content(doc, op.requestBody)) : null,
    h("h3", {}, "Answers"),
    Object.entries(op.responses ?? {}).map(([status, node]) =>
      h(
        "div",
        { class: "answer" },
        h("strong", {}, status),
        " ",
        resolve(doc, node).description ?? "",
        status.startsWith("2") || status === "101" ? content(doc, node) : null,
      ),
    ),
  );
}

function errorCodes(doc) {
  const codes = doc.components?.schemas?.ErrorCode;
  const statusOf = codes?.["x-status-of"] ?? {};
  return h(
    "section",
    { id: "errors" },
    h("h2", {}, "Error codes"),
    h("p", {}, "Every error answer is {error: {code, message, details?}}; the code is stable."),
    h(
      "table",
      {},
      h("tr", {}, h("th", {}, "code"), h("th", {}, "status")),
      (codes?.enum ?? []).map((code) =>
        h("tr", {}, h("td", {}, h("code", {}, code)), h("td", {}, statusOf[code] ?? "")),
      ),
    ),
  );
}

/** The whole reference for a document, as elements. */
export function reference(doc) {
  const byTag = new Map((doc.tags ?? []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const name = op.tags?.[0] ?? "other";
      if (!byTag.has(name)) byTag.set(name, { tag: { name }, ops: [] });
      byTag.get(name).ops.push(operationEl(doc, path, method, op));
    }
  }
  const schemes = Object.entries(doc.components?.securitySchemes ?? {});
  return [
    h("h1", {}, `${doc.info?.title ?? "API"} ${doc.info?.version ?? ""}`),
    doc.info?.description ? h("p", { class: "desc" }, doc.info.description) : null,
    h(
      "section",
      { id: "auth" },
      h("h2", {}, "Authentication"),
      h(
        "ul",
        {},
        schemes.map(([name, s]) => h("li", {}, h("code", {}, name), ` ${s.scheme ?? s.type}: ${s.description ?? ""}`)),
      ),
    ),
    [...byTag.values()]
      .filter((g) => g.ops.length)
      .map(({ tag, ops }) =>
        h(
          "section",
          { id: `tag-${tag.name}` },
          h("h2", {}, tag.name),
          tag.description ? h("p", {}, tag.description) : null,
          ops,
        ),
      ),
    errorCodes(doc),
    h(
      "section",
      { id: "schemas" },
      h("h2", {}, "Schemas"),
      Object.entries(doc.components?.schemas ?? {}).map(([name, schema]) =>
        h(
          "details",
          { class: "op", id: `schema-${name}` },
          h("summary", {}, h("span", { class: "path" }, name)),
          schema.description ? h("p", { class: "desc" }, schema.description) : null,
          schemaBlock(schema),
        ),
      ),
    ),
  ];
}

async function main() {
  const root = document.getElementById("docs");
  try {
    const res = await fetch("/v1/openapi.json", { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
    replace(root, reference(await res.json()));
    // A link to #schema-… or #op-… opens its card.
    const open = () => {
      const target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
      if (target instanceof HTMLDetailsElement) target.open = true;
      target?.scrollIntoView();
    };
    window.addEventListener("hashchange", open);
    open();
  } catch (err) {
    replace(root, h("p", { class: "error" }, `The API's contract could not be read: ${err.message}`));
  }
}

if (typeof document !== "undefined") void main();
