/**
 * A fake OpenAI Chat Completions API (`POST /v1/chat/completions`, JSON,
 * non-streaming) on 127.0.0.1, standing for OpenAI and for the servers that
 * speak its API (Ollama, vLLM, llama.cpp). It checks the bearer key, the
 * pairing of tool calls and tool messages, the schema of a structured-output
 * request, and (optionally) which token-limit parameter the model accepts.
 */

import {
  FakeProvider,
  type FakeReply,
  field,
  header,
  isObject,
  list,
  type RecordedRequest,
  type Rejection,
  type Script,
  type WireReply,
} from "./server.ts";

export interface FakeOpenAIOptions {
  /** The key the fake wants as `Authorization: Bearer`; absent: any or none (a local server). */
  apiKey?: string;
  /**
   * The token-limit parameter the model takes; the other one is refused, as o-series
   * models refuse `max_tokens`. Absent: both are accepted.
   */
  tokenLimitParam?: "max_tokens" | "max_completion_tokens";
  /** The reply once the queue is empty; a 400 "no reply scripted" by default (a run ends at once). */
  default?: Script;
}

const ERRORS: Record<number, { type: string; code: string | null }> = {
  400: { type: "invalid_request_error", code: null },
  401: { type: "invalid_request_error", code: "invalid_api_key" },
  404: { type: "invalid_request_error", code: "model_not_found" },
  429: { type: "requests", code: "rate_limit_exceeded" },
};

const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);

/** The fake OpenAI API. `await FakeOpenAI.start({ apiKey })`; its base URL for the SDK is `${fake.url}/v1`. */
export class FakeOpenAI extends FakeProvider {
  protected readonly route = "/v1/chat/completions";
  readonly #options: FakeOpenAIOptions;
  #ids = 0;

  private constructor(options: FakeOpenAIOptions) {
    super(options.default);
    this.#options = options;
  }

  static async start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
    const fake = new FakeOpenAI(options);
    await fake.listen();
    return fake;
  }

  protected check(request: RecordedRequest): Rejection | undefined {
    const { apiKey, tokenLimitParam } = this.#options;
    const auth = header(request, "authorization");
    if (apiKey !== undefined && auth !== `Bearer ${apiKey}`) {
      const message = auth?.startsWith("Bearer ")
        ? `Incorrect API key provided: ${auth.slice(7, 10)}***. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
      return { status: 401, message };
    }
    const other = tokenLimitParam === "max_tokens" ? "max_completion_tokens" : "max_tokens";
    if (tokenLimitParam && field(request.body, other) !== undefined) {
      return {
        status: 400,
        message: `Unsupported parameter: '${other}' is not supported with this model. Use '${tokenLimitParam}' instead.`,
      };
    }
    const problem = checkBody(request.body);
    return problem ? { status: 400, message: problem } : undefined;
  }

  protected asksForStructured(request: RecordedRequest): boolean {
    return field(field(request.body, "response_format"), "type") === "json_schema";
  }

  protected render(reply: FakeReply, request: RecordedRequest): WireReply {
    if (reply.kind === "error") {
      const known = ERRORS[reply.status] ?? {
        type: reply.status >= 500 ? "server_error" : "invalid_request_error",
        code: null,
      };
      return {
        status: reply.status,
        body: { error: { message: reply.message, type: reply.type ?? known.type, param: null, code: known.code } },
        headers: { "x-request-id": "req_fake", ...reply.headers },
      };
    }
    const toolCalls = (reply.toolCalls ?? []).map((call) => ({
      id: call.id ?? this.#id(),
      type: "function",
      function: { name: call.name, arguments: call.rawArguments ?? JSON.stringify(call.input ?? {}) },
    }));
    const content = reply.structured !== undefined ? JSON.stringify(reply.structured) : reply.text || null;
    const usage = reply.usage ?? { input: 10, output: 5 };
    return {
      status: 200,
      body: {
        id: `chatcmpl-fake-${this.requests.length}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: reply.model ?? field(request.body, "model"),
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content,
              refusal: null,
              ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
            },
            finish_reason: reply.stopReason ?? (toolCalls.length ? "tool_calls" : "stop"),
            logprobs: null,
          },
        ],
        usage: {
          prompt_tokens: usage.input + (usage.cacheRead ?? 0),
          completion_tokens: usage.output,
          total_tokens: usage.input + (usage.cacheRead ?? 0) + usage.output,
          ...(usage.cacheRead !== undefined ? { prompt_tokens_details: { cached_tokens: usage.cacheRead } } : {}),
        },
      },
    };
  }

  #id(): string {
    this.#ids += 1;
    return `call_fake_${this.#ids}`;
  }
}

/** The request rules of Chat Completions that the adapter could get wrong. */
function checkBody(body: unknown): string | undefined {
  if (typeof field(body, "model") !== "string") return "you must provide a model parameter";
  for (const [i, tool] of list(body, "tools").entries()) {
    const fn = field(tool, "function");
    if (field(tool, "type") !== "function" || typeof field(fn, "name") !== "string") {
      return `Invalid value for 'tools[${i}]': expected a function tool with a name`;
    }
    if (field(fn, "parameters") !== undefined && !isObject(field(fn, "parameters"))) {
      return `Invalid schema for function '${String(field(fn, "name"))}': parameters must be an object`;
    }
  }
  const format = field(body, "response_format");
  if (field(format, "type") === "json_schema") {
    const schema = field(format, "json_schema");
    if (typeof field(schema, "name") !== "string")
      return "Missing required parameter: 'response_format.json_schema.name'.";
    if (!isObject(field(schema, "schema"))) return "Missing required parameter: 'response_format.json_schema.schema'.";
  }
  return checkMessages(list(body, "messages"));
}

/** Each tool message answers a call of the assistant message before it; each call is answered. */
function checkMessages(messages: unknown[]): string | undefined {
  if (!messages.length) return "'messages' must contain at least one message";
  let open = new Set<unknown>();
  for (const [i, message] of messages.entries()) {
    const role = field(message, "role");
    if (typeof role !== "string" || !ROLES.has(role)) return `Invalid value for 'messages[${i}].role'`;
    if (role === "tool") {
      const id = field(message, "tool_call_id");
      if (!open.has(id)) {
        return `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (tool_call_id ${String(id)}).`;
      }
      open.delete(id);
      continue;
    }
    if (open.size) {
      return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(", ")}`;
    }
    const calls = list(message, "tool_calls");
    if (calls.some((call) => typeof field(field(call, "function"), "arguments") !== "string")) {
      return `Invalid type for 'messages[${i}].tool_calls': function.arguments must be a string`;
    }
    open = new Set(calls.map((call) => field(call, "id")));
  }
  return undefined;
}
