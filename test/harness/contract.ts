import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parseSse, type SseMessage } from "../../client/src/sdk/sse.ts";

/**
 * The API's answers checked against its OpenAPI document (issue 15): a
 * `Contract` finds the operation of a method and a path, and checks an
 * answer's status, content type and body against it; `watchContract` does so
 * for every answer a suite's own `fetch` calls get from one Worker.
 *
 * ajv checks the bodies: its 2020-12 build is the dialect of OpenAPI 3.1 and
 * of z.toJSONSchema (the same ajv that @seriousme/openapi-schema-validator
 * validates the document itself with).
 */

type JsonObject = Record<string, unknown>;

/** One answer as a client saw it. `body` is the parsed JSON, or the SSE messages of an event stream. */
export interface Answer {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

const ROOT = "urn:edgeswarm:openapi";
// ajv-formats is CommonJS; its default export arrives wrapped under Node's ESM loader.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv2020,
) => void;

interface Route {
  template: string;
  pattern: RegExp;
  params: number;
  methods: Record<string, JsonObject>;
}

/** The operations of one OpenAPI document, and the checks of answers against them. */
export class Contract {
  readonly #doc: JsonObject;
  readonly #ajv: Ajv2020;
  readonly #routes: Route[];
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(doc: JsonObject) {
    this.#doc = structuredClone(doc);
    this.#ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.#ajv);
    this.#ajv.addSchema({ $id: ROOT, components: this.#doc.components }, ROOT);
    const paths = (this.#doc.paths ?? {}) as Record<string, Record<string, JsonObject>>;
    this.#routes = Object.entries(paths)
      .map(([template, methods]) => ({
        template,
        methods,
        params: (template.match(/\{/g) ?? []).length,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
      }))
      // A literal path wins over a template that would also match it.
      .sort((a, b) => a.params - b.params);
  }

  /** The operation `method path` (a query is ignored), with its path template. */
  operation(method: string, path: string): { template: string; operation: JsonObject } | undefined {
    const bare = path.split("?")[0] ?? path;
    for (const route of this.#routes) {
      const op = route.methods[method.toLowerCase()];
      if (op && route.pattern.test(bare)) return { template: route.template, operation: op };
    }
    return undefined;
  }

  /** What is wrong with `answer` by the document: nothing is `[]`. */
  check(answer: Answer): string[] {
    const where = `${answer.method} ${answer.path.split("?")[0]} → ${answer.status}`;
    const found = this.operation(answer.method, answer.path);
    if (!found) {
      // A path or method the API does not have is a 404 like any other: that answer is in the contract too.
      if (answer.status === 404)
        return this.#checkResponse(where, this.#resolve({ $ref: "#/components/responses/Error404" }), answer);
      return [`${where}: no operation ${answer.method} ${answer.path.split("?")[0]} in the document`];
    }
    const responses = (found.operation.responses ?? {}) as Record<string, JsonObject>;
    const response =
      responses[String(answer.status)] ?? responses[`${String(answer.status)[0]}XX`] ?? responses.default;
    if (!response) {
      return [`${where}: status ${answer.status} is not documented for ${answer.method} ${found.template}`];
    }
    return this.#checkResponse(where, this.#resolve(response), answer);
  }

  #checkResponse(where: string, response: JsonObject, answer: Answer): string[] {
    const content = response.content as Record<string, JsonObject> | undefined;
    if (!content) return [];
    const type = (answer.contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const media = content[type];
    if (!media) return [`${where}: content type '${type}' is not one of ${Object.keys(content).join(", ")}`];
    if (type === "text/event-stream") {
      if (!Array.isArray(answer.body)) return [`${where}: an event stream's body must be its SSE messages`];
      return (answer.body as SseMessage[]).flatMap((message) => {
        let data: unknown;
        try {
          data = JSON.parse(message.data);
        } catch {
          return [`${where}: event '${message.event}' has data that is not JSON: ${message.data.slice(0, 200)}`];
        }
        const named = (data as { type?: unknown } | null)?.type;
        const problems = this.#validate(media.schema as JsonObject, data, `${where} event '${message.event}'`);
        if (named !== message.event) problems.push(`${where}: SSE event '${message.event}' carries type '${named}'`);
        return problems;
      });
    }
    return this.#validate(media.schema as JsonObject, answer.body, where);
  }

  /**
   * What is wrong with `data` by `schema`. A union of objects told apart by
   * their `type` (the events) is checked against the one member of that type
   * only, so a mistake is named in that member's terms, not in every member's.
   */
  #validate(schema: JsonObject, data: unknown, where: string): string[] {
    const member = this.#memberOfType(schema, data);
    if (typeof member === "string") return [`${where}: ${member}`];
    const validate = this.#validator(member ?? schema);
    return validate(data) ? [] : this.#errors(where, validate);
  }

  /** The member of a `type`-discriminated union that `data` claims to be; a reason if none; undefined if not such a union. */
  #memberOfType(schema: JsonObject, data: unknown): JsonObject | string | undefined {
    const union = this.#resolve(schema);
    const members = (union.oneOf ?? union.anyOf) as JsonObject[] | undefined;
    if (!Array.isArray(members)) return undefined;
    const typed = members.map((m) => {
      const resolved = this.#resolve(m);
      const type = ((resolved.properties as JsonObject | undefined)?.type as JsonObject | undefined)?.const;
      return { member: m, type };
    });
    if (typed.some((t) => typeof t.type !== "string")) return undefined;
    const claimed = (data as { type?: unknown } | null)?.type;
    const found = typed.find((t) => t.type === claimed);
    return found ? found.member : `type '${String(claimed)}' is none of the document's ${typed.length}`;
  }

  #errors(where: string, validate: ValidateFunction): string[] {
    return (validate.errors ?? []).slice(0, 5).map((e) => {
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      return `${where}: ${e.instancePath || "(body)"} ${e.message}${extra ? ` ('${extra}')` : ""}`;
    });
  }

  #resolve(node: JsonObject): JsonObject {
    const target = node.$ref;
    if (typeof target !== "string") return node;
    let at: unknown = this.#doc;
    for (const part of target.replace(/^#\//, "").split("/"))
      at = (at as JsonObject)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    return at as JsonObject;
  }

  #validator(schema: JsonObject): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.#validators.get(key);
    if (!validate) {
      // Local refs point into the document, which ajv holds under ROOT.
      const rooted = JSON.parse(key.replaceAll('"$ref":"#/', `"$ref":"${ROOT}#/`)) as JsonObject;
      validate = this.#ajv.compile(rooted);
      this.#validators.set(key, validate);
    }
    return validate;
  }
}

/** What a watch has seen: each violation, and how many answers (and SSE events) it checked. */
export interface ContractWatch {
  readonly violations: readonly string[];
  readonly checked: number;
  /** Resolves once the answers already seen are checked (event streams still open are not waited for). */
  settled(): Promise<void>;
  /** Puts the suite's `fetch` back, once the answers it began checking are done. */
  stop(): Promise<void>;
}

/** Paths the document covers; the dashboard's pages and /mcp speak their own formats. */
const COVERED = /^\/(v1\/|healthz$)/;

/**
 * Checks every answer this process's `fetch` gets from the Worker at `baseUrl`
 * against the document it serves, until `stop()`. A JSON answer is read from a
 * clone; an event stream is checked event by event as the caller reads it, so
 * a caller that stops reading still holds the stream (no read runs ahead).
 *
 * @example
 *   const contract = await watchContract(stack.api.url);
 *   afterAll(async () => {
 *     await contract.stop();
 *     expect(contract.violations).toEqual([]);
 *   });
 */
export async function watchContract(baseUrl: string): Promise<ContractWatch> {
  const original = globalThis.fetch;
  const served = await original(`${baseUrl}/v1/openapi.json`);
  if (!served.ok) throw new Error(`GET ${baseUrl}/v1/openapi.json answered ${served.status}: ${await served.text()}`);
  const contract = new Contract((await served.json()) as JsonObject);
  const origin = new URL(baseUrl).origin;
  const violations: string[] = [];
  const pending = new Set<Promise<void>>();
  let checked = 0;

  const record = (answer: Answer) => {
    checked++;
    violations.push(...contract.check(answer));
  };
  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };

  const watched: typeof fetch = async (input, init) => {
    const res = await original(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== origin || !COVERED.test(url.pathname)) return res;
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const answer = { method, path: url.pathname, status: res.status, contentType: res.headers.get("content-type") };
    if (!res.body) {
      record({ ...answer, body: undefined });
      return res;
    }
    if (!answer.contentType?.startsWith("text/event-stream")) {
      track(
        res
          .clone()
          .text()
          .then(
            (text) => {
              let body: unknown = text;
              if (answer.contentType?.includes("json")) {
                try {
                  body = JSON.parse(text);
                } catch {
                  violations.push(`${method} ${url.pathname} → ${res.status}: the body is not JSON`);
                  return;
                }
              }
              record({ ...answer, body });
            },
            () => {}, // the caller aborted the request: nothing to check
          ),
      );
      return res;
    }
    return tapEventStream(res, (message) => record({ ...answer, body: [message] }), track);
  };
  globalThis.fetch = watched;
  const settled = async () => {
    await Promise.allSettled([...pending].filter((p) => !streams.has(p)));
  };

  return {
    get violations() {
      return violations;
    },
    get checked() {
      return checked;
    },
    settled,
    async stop() {
      if (globalThis.fetch === watched) globalThis.fetch = original;
      await settled();
    },
  };
}

/** The SSE checks, which end when their stream does (a stream the suite left open is not waited for). */
const streams = new WeakSet<Promise<void>>();

/**
 * `res` with its body passed through as the caller reads it, each chunk also
 * fed to an SSE parser that hands every message to `onMessage`.
 */
function tapEventStream(
  res: Response,
  onMessage: (m: SseMessage) => void,
  track: (p: Promise<void>) => void,
): Response {
  const source = (res.body as ReadableStream<Uint8Array>).getReader();
  let side!: ReadableStreamDefaultController<Uint8Array<ArrayBuffer>>;
  const copy = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      side = controller;
    },
  });
  let ended = false;
  const endCopy = () => {
    if (!ended) side.close();
    ended = true;
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await source.read();
          if (done) {
            controller.close();
            endCopy();
            return;
          }
          side.enqueue(value as Uint8Array<ArrayBuffer>);
          controller.enqueue(value);
        } catch (err) {
          controller.error(err);
          endCopy();
        }
      },
      cancel(reason) {
        endCopy();
        return source.cancel(reason);
      },
    },
    // Read from the Worker only when the caller reads: a slow reader stays slow.
    { highWaterMark: 0 },
  );
  const parsing = (async () => {
    try {
      for await (const message of parseSse(copy)) onMessage(message);
    } catch {
      // the stream broke off: the events before the break were checked
    }
  })();
  streams.add(parsing);
  track(parsing);
  const tapped = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  Object.defineProperty(tapped, "url", { value: res.url });
  return tapped;
}
