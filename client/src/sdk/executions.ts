import { ExecutionEvent, type ExecutionRequestInput, ExecutionResult } from "@edgeswarm/shared";
import { EdgeswarmError, EdgeswarmUnreachableError, isAbort } from "./errors.ts";
import { parseSse } from "./sse.ts";
import { type CallOptions, parseAnswer, type Transport } from "./transport.ts";

/** Plain executions: run code once in a sandbox, no model. */
export class Executions {
  readonly #t: Transport;

  /** @internal */
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Runs code and resolves with its result once it ends (any `status`: a
   * program that fails is a result, not an error).
   * @example const r = await swarm.executions.run({ language: "python", code: "print(2 + 2)" });
   */
  run(body: ExecutionRequestInput, options: CallOptions = {}): Promise<ExecutionResult> {
    return this.#t.json(ExecutionResult, "/v1/executions", { method: "POST", body, signal: options.signal });
  }

  /**
   * Runs code and yields its events as they happen: `started`, `stdout` and
   * `stderr` chunks, then `finished` with the result. Leaving the loop early
   * (or aborting) closes the stream, which cancels the execution.
   * @example
   * for await (const e of swarm.executions.stream({ language: "python", code })) {
   *   if (e.type === "stdout") process.stdout.write(e.data);
   * }
   */
  async *stream(body: ExecutionRequestInput, options: CallOptions = {}): AsyncGenerator<ExecutionEvent> {
    const { signal } = options;
    const res = await this.#t.send("/v1/executions", {
      method: "POST",
      body,
      headers: { Accept: "text/event-stream" },
      signal,
    });
    if (!res.body) throw new EdgeswarmError("invalid_response", "the execution stream came without a body");
    try {
      for await (const message of parseSse(res.body, { signal })) {
        let json: unknown;
        try {
          json = JSON.parse(message.data);
        } catch (cause) {
          throw new EdgeswarmError("invalid_response", "an execution event is not JSON", { cause });
        }
        const event = parseAnswer(ExecutionEvent, json, `execution event '${message.event}'`);
        yield event;
        if (event.type === "finished") return;
      }
    } catch (err) {
      if (isAbort(err, signal) || signal?.aborted) throw signal?.reason ?? err;
      if (err instanceof EdgeswarmError) throw err;
      throw new EdgeswarmUnreachableError(this.#t.baseUrl, err);
    }
    throw new EdgeswarmUnreachableError(this.#t.baseUrl, new Error("the execution stream ended before `finished`"));
  }
}
