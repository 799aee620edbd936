/**
 * What the fake model providers share: a real HTTP server on 127.0.0.1, a
 * request log, a script of replies, and checks that record violations. Each
 * provider (anthropic.ts, openai.ts) adds its route, its checks and its wire
 * format, so the adapters are tested against the protocol and not against
 * mocks of the SDKs.
 */

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Bodies larger than this are refused (413): a runaway conversation should show, not hang. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when the body was not JSON. */
  body: unknown;
}

/** A broken rule of the protocol, for the test to assert on. */
export interface Violation {
  /** The index of the request in `requests`. */
  request: number;
  message: string;
}

export interface FakeUsage {
  /** Input tokens outside the prompt cache (Anthropic's input_tokens; OpenAI's prompt_tokens less cacheRead). */
  input: number;
  output: number;
  /** Input tokens read from the prompt cache. */
  cacheRead?: number;
  /** Input tokens written to the prompt cache (Anthropic only). */
  cacheWrite?: number;
}

export interface FakeToolCall {
  /** Generated when absent. */
  id?: string;
  name: string;
  input?: unknown;
  /** The arguments text to send as is, e.g. malformed JSON (OpenAI only; its arguments are text). */
  rawArguments?: string;
}

/** A scripted reply, provider-neutral: each fake renders it in its own wire format. */
export type FakeReply =
  | {
      kind: "answer";
      text?: string;
      toolCalls?: FakeToolCall[];
      /** A structured-output answer: this value, in the form the request asked for. */
      structured?: unknown;
      usage?: FakeUsage;
      /** Overrides the stop reason the fake would derive. */
      stopReason?: string;
      /** The model the answer says answered; else the one requested. */
      model?: string;
    }
  | { kind: "error"; status: number; message: string; type?: string; headers?: Record<string, string> };

/**
 * A reply, or a function of the request that makes one: an instant answer for
 * load tests, or an async one that takes its time, for deadlines.
 */
export type Script = FakeReply | ((request: RecordedRequest) => FakeReply | Promise<FakeReply>);

const DEFAULT_USAGE: FakeUsage = { input: 10, output: 5 };

/** What a fake answers to a request no test scripted. */
const UNSCRIPTED_MESSAGE = "the fake has no reply scripted for this request";

/** Builders for scripted replies. */
export const reply = {
  text(text: string, usage: FakeUsage = DEFAULT_USAGE): FakeReply {
    return { kind: "answer", text, usage };
  },
  toolUse(name: string, input: unknown, options: { id?: string; text?: string; usage?: FakeUsage } = {}): FakeReply {
    const call: FakeToolCall = { name, input, ...(options.id ? { id: options.id } : {}) };
    return { kind: "answer", text: options.text ?? "", toolCalls: [call], usage: options.usage ?? DEFAULT_USAGE };
  },
  toolCalls(calls: FakeToolCall[], usage: FakeUsage = DEFAULT_USAGE): FakeReply {
    return { kind: "answer", toolCalls: calls, usage };
  },
  structured(value: unknown, usage: FakeUsage = DEFAULT_USAGE): FakeReply {
    return { kind: "answer", structured: value, usage };
  },
  /** An error; `retryAfter` becomes the `retry-after` header (seconds or an HTTP date). */
  error(status: number, message: string, options: { type?: string; retryAfter?: string | number } = {}): FakeReply {
    return {
      kind: "error",
      status,
      message,
      ...(options.type ? { type: options.type } : {}),
      ...(options.retryAfter !== undefined ? { headers: { "retry-after": String(options.retryAfter) } } : {}),
    };
  },
};

const UNSCRIPTED: FakeReply = reply.error(400, UNSCRIPTED_MESSAGE);

/** What the fake sends: a status, a JSON body, extra headers. */
export interface WireReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A failed check: answered with this status and a provider-shaped error, and recorded. */
export interface Rejection {
  status: number;
  message: string;
  type?: string;
}

/** A fake provider: subclasses define the route, the checks and the wire format. */
export abstract class FakeProvider {
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  readonly reply = reply;
  #queue: Script[] = [];
  readonly #initialFallback: Script;
  #fallback: Script;
  #server: Server | undefined;
  #url = "";

  /**
   * `fallback` answers once the queue is empty. By default it is a 400, which
   * no run retries: a run a test did not script ends at once with
   * `model_error`, instead of retrying until the test times out.
   */
  constructor(fallback: Script = UNSCRIPTED) {
    this.#initialFallback = fallback;
    this.#fallback = fallback;
  }

  /**
   * Drops the replies still queued and restores the first fallback; answers
   * how many were dropped. Suites call it after each test, so that one test's
   * leftovers never answer the next one's requests.
   */
  reset(): number {
    const dropped = this.#queue.length;
    this.#queue = [];
    this.#fallback = this.#initialFallback;
    return dropped;
  }

  /** http://127.0.0.1:<port>, without a path. */
  get url(): string {
    return this.#url;
  }

  /** Queues replies, answered in order, one per request. */
  enqueue(...replies: Script[]): this {
    this.#queue.push(...replies);
    return this;
  }

  /** The reply once the queue is empty (at first: a 400 that says no reply was scripted). */
  setDefault(script: Script): this {
    this.#fallback = script;
    return this;
  }

  /** How many queued replies were not used. */
  get pending(): number {
    return this.#queue.length;
  }

  /** The path this provider answers, e.g. "/v1/messages". */
  protected abstract readonly route: string;
  /** Checks a request; returns why it is refused, or undefined. */
  protected abstract check(request: RecordedRequest): Rejection | undefined;
  /** Renders a reply in the provider's wire format. */
  protected abstract render(reply: FakeReply, request: RecordedRequest): WireReply;

  protected async listen(): Promise<void> {
    const server = createServer((req, res) => {
      void this.#handle(req).then(
        (wire) => {
          res.writeHead(wire.status, { "content-type": "application/json", ...wire.headers });
          res.end(JSON.stringify(wire.body));
        },
        (err: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`fake server failed: ${String(err)}`);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Stops the server, cutting kept-alive connections so that closing never waits. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage): Promise<WireReply> {
    const read = await readJson(req);
    const request: RecordedRequest = {
      method: req.method ?? "",
      path: (req.url ?? "").split("?")[0] ?? "",
      headers: req.headers,
      body: read.body,
    };
    const index = this.requests.push(request) - 1;
    const rejection = read.error ?? this.#route(request) ?? this.check(request);
    if (rejection) {
      this.violations.push({ request: index, message: rejection.message });
      return this.render({ kind: "error", ...rejection }, request);
    }
    const script = this.#queue.shift() ?? this.#fallback;
    const next = typeof script === "function" ? await script(request) : script;
    if (next.kind === "answer" && next.structured !== undefined && !this.asksForStructured(request)) {
      const message = "a structured reply was scripted, but the request asks for no schema";
      this.violations.push({ request: index, message });
      return this.render({ kind: "error", status: 400, message }, request);
    }
    return this.render(next, request);
  }

  /** Whether the request asks for structured output (OpenAI: a response_format; Anthropic: a forced tool). */
  protected abstract asksForStructured(request: RecordedRequest): boolean;

  #route(request: RecordedRequest): Rejection | undefined {
    if (request.method === "POST" && request.path === this.route) return undefined;
    return { status: 404, message: `no route ${request.method} ${request.path}`, type: "not_found_error" };
  }
}

async function readJson(req: IncomingMessage): Promise<{ body: unknown; error?: Rejection }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Past the cap, keep reading but drop the bytes, so that the client still gets its answer.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) {
    return { body: undefined, error: { status: 413, message: `request body over ${MAX_BODY_BYTES} bytes` } };
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return { body: undefined };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { body: undefined, error: { status: 400, message: "the request body is not valid JSON" } };
  }
}

/** The value at `key` of a JSON object, or undefined. */
export function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** The array at `key` of a JSON object, or an empty one. */
export function list(value: unknown, key: string): unknown[] {
  const found = field(value, key);
  return Array.isArray(found) ? found : [];
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The single value of a header, lower-cased name. */
export function header(request: RecordedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
