import type { ErrorBody, ExecutionEvent, ExecutionRequestInput, ExecutionResult } from "@edgeswarm/shared";
import { sseData } from "./sse.ts";

/** A caller of the HTTP API with one API key. */
export class Api {
  readonly url: string;
  readonly key: string | undefined;

  constructor(url: string, key: string | undefined) {
    this.url = url;
    this.key = key;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      "Content-Type": "application/json",
      ...(this.key ? { Authorization: `Bearer ${this.key}` } : {}),
      ...extra,
    };
  }

  /** POSTs raw text; for bad-input tests. */
  raw(path: string, body: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, { method: "POST", body, headers: this.headers(), ...init });
  }

  async execute(request: ExecutionRequestInput): Promise<ExecutionResult> {
    const res = await this.raw("/v1/executions", JSON.stringify(request));
    const body = (await res.json()) as ExecutionResult | ErrorBody;
    if (!res.ok) throw new Error(`POST /v1/executions answered ${res.status}: ${JSON.stringify(body)}`);
    return body as ExecutionResult;
  }

  /** Streams an execution as SSE, stamping each event with the time it arrived. */
  async *stream(request: ExecutionRequestInput, signal?: AbortSignal): AsyncGenerator<ExecutionEvent & { at: number }> {
    const res = await fetch(`${this.url}/v1/executions`, {
      method: "POST",
      body: JSON.stringify(request),
      headers: this.headers({ Accept: "text/event-stream" }),
      signal,
    });
    if (!res.ok || !res.body) throw new Error(`POST /v1/executions (SSE) answered ${res.status}: ${await res.text()}`);
    if (!res.headers.get("content-type")?.startsWith("text/event-stream")) {
      throw new Error(`expected an event stream, got ${res.headers.get("content-type")}`);
    }
    for await (const { data, at } of sseData(res.body)) yield { ...(data as ExecutionEvent), at };
  }

  get(path: string): Promise<Response> {
    return fetch(`${this.url}${path}`, { headers: this.headers() });
  }
}

/**
 * Reads an execution's events until its stdout so far contains `text` (chunk
 * boundaries are the program's writes, so never expect one chunk).
 */
export async function readUntilStdout(
  events: AsyncGenerator<ExecutionEvent & { at: number }>,
  text: string,
): Promise<void> {
  let seen = "";
  for (;;) {
    const { value, done } = await events.next();
    if (done)
      throw new Error(`the stream ended before stdout contained ${JSON.stringify(text)} (got ${JSON.stringify(seen)})`);
    if (value.type === "stdout") seen += value.data;
    if (seen.includes(text)) return;
  }
}
