import type { z } from "zod";
import { EdgeswarmError, EdgeswarmUnreachableError, errorFromResponse, isAbort } from "./errors.ts";

/** The options every call takes. */
export interface CallOptions {
  /** Aborts the call; the SDK rethrows the signal's reason. */
  signal?: AbortSignal;
}

export interface TransportOptions {
  /** The Worker's base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** An API key; sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** A fetch to use instead of the global one (a test stub, a custom agent). */
  fetch?: typeof fetch;
}

interface RequestInit {
  method?: "GET" | "POST";
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/**
 * @internal One API endpoint and key: builds requests, maps every failure to
 * an {@link EdgeswarmError}, and parses answers with the shared schemas.
 */
export class Transport {
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(options: TransportOptions) {
    if (typeof options?.url !== "string" || !/^https?:\/\/[^/]/i.test(options.url)) {
      throw new TypeError(`Edgeswarm: url must be an http(s) URL such as "http://127.0.0.1:8787", got ${options?.url}`);
    }
    if (typeof options.apiKey !== "string" || options.apiKey.length === 0) {
      throw new TypeError("Edgeswarm: apiKey must be a non-empty string (the API key `npm start` printed)");
    }
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    // Unbound, a Workers or browser fetch throws "Illegal invocation".
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  url(path: string, query: RequestInit["query"] = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ""}`;
  }

  /** Sends a request; resolves with a 2xx response or throws an EdgeswarmError (or the abort reason). */
  async send(path: string, init: RequestInit = {}): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#apiKey}`, ...init.headers };
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    const url = this.url(path, init.query);
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method: init.method ?? "GET",
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal,
      });
    } catch (err) {
      if (isAbort(err, init.signal)) throw init.signal?.reason ?? err;
      throw new EdgeswarmUnreachableError(this.baseUrl, err);
    }
    if (!res.ok) throw await settleOnAbort(errorFromResponse(res), init.signal);
    return res;
  }

  /** Sends a request and parses its JSON answer with `schema`. */
  async json<S extends z.ZodType>(schema: S, path: string, init: RequestInit = {}): Promise<z.infer<S>> {
    const res = await this.send(path, init);
    let json: unknown;
    try {
      json = await settleOnAbort(res.json(), init.signal);
    } catch (err) {
      if (isAbort(err, init.signal)) throw init.signal?.reason ?? err;
      throw new EdgeswarmError("invalid_response", `${path} answered ${res.status} with a body that is not JSON`, {
        status: res.status,
        cause: err,
      });
    }
    return parseAnswer(schema, json, path, res.status);
  }
}

/**
 * `read` (a body being consumed), but rejecting with the abort reason as soon
 * as `signal` aborts. A fetch should do that itself, and Node 22's usually
 * does, but aborted while the last chunk of a gzip-encoded body arrives, its
 * `res.json()` never settles (seen against wrangler dev, which gzips small
 * JSON answers), and a caller's abort must always end the call.
 */
function settleOnAbort<T>(read: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return read;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    const done = () => signal.removeEventListener("abort", onAbort);
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    read.then(
      (value) => {
        done();
        resolve(value);
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
  });
}

/** Parses an answer with its schema; a mismatch is an `invalid_response` error (a client and server out of step). */
export function parseAnswer<S extends z.ZodType>(schema: S, json: unknown, what: string, status: number | null = null) {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data as z.infer<S>;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  throw new EdgeswarmError(
    "invalid_response",
    `${what}: the answer does not match the API contract${where}: ${issue?.message ?? "invalid"}`,
    { status, details: parsed.error.issues },
  );
}
