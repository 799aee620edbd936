/**
 * A fake Anthropic Messages API (`POST /v1/messages`, JSON, non-streaming) on
 * 127.0.0.1. It checks the key, the version header, and the conversation rules
 * the real API enforces (alternating roles, every tool_use answered by a
 * tool_result right after it), answering like Anthropic when they are broken.
 */

import { type CacheUsage, FakePromptCache } from "./anthropic-cache.ts";
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

export interface FakeAnthropicOptions {
  /** The key the fake accepts, as `x-api-key` or, as SDK v1 sends it, `Authorization: Bearer`. */
  apiKey: string;
  /** The reply once the queue is empty; a 400 "no reply scripted" by default (a run ends at once). */
  default?: Script;
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error",
};

/** The fake Anthropic API. `await FakeAnthropic.start({ apiKey })`, then script it with `enqueue`. */
export class FakeAnthropic extends FakeProvider {
  protected readonly route = "/v1/messages";
  readonly #apiKey: string;
  #ids = 0;
  /**
   * When set, a reply's input tokens are counted from the request and split
   * by the prompt cache (anthropic-cache.ts) instead of scripted; the output
   * tokens stay as scripted.
   */
  measureUsage = false;
  readonly cache = new FakePromptCache();
  /** The usage measured for each request, while `measureUsage` is set. */
  readonly measured: CacheUsage[] = [];

  private constructor(options: FakeAnthropicOptions) {
    super(options.default);
    this.#apiKey = options.apiKey;
  }

  static async start(options: FakeAnthropicOptions): Promise<FakeAnthropic> {
    const fake = new FakeAnthropic(options);
    await fake.listen();
    return fake;
  }

  protected check(request: RecordedRequest): Rejection | undefined {
    const key = header(request, "x-api-key") ?? header(request, "authorization")?.replace(/^Bearer /, "");
    if (key !== this.#apiKey) return { status: 401, message: "invalid x-api-key" };
    if (!/^\d{4}-\d{2}-\d{2}$/.test(header(request, "anthropic-version") ?? "")) {
      return { status: 400, message: "anthropic-version: header is required" };
    }
    const problem = checkBody(request.body);
    return problem ? { status: 400, message: problem } : undefined;
  }

  protected asksForStructured(request: RecordedRequest): boolean {
    return field(field(request.body, "tool_choice"), "type") === "tool";
  }

  protected render(reply: FakeReply, request: RecordedRequest): WireReply {
    if (reply.kind === "error") {
      const type =
        reply.type ?? ERROR_TYPES[reply.status] ?? (reply.status >= 500 ? "api_error" : "invalid_request_error");
      return {
        status: reply.status,
        body: { type: "error", error: { type, message: reply.message }, request_id: "req_fake" },
        headers: { "request-id": "req_fake", ...reply.headers },
      };
    }
    const content: unknown[] = [];
    if (reply.text) content.push({ type: "text", text: reply.text, citations: null });
    for (const call of reply.toolCalls ?? []) {
      content.push({ type: "tool_use", id: call.id ?? this.#id(), name: call.name, input: call.input ?? {} });
    }
    if (reply.structured !== undefined) {
      const name = field(field(request.body, "tool_choice"), "name");
      content.push({ type: "tool_use", id: this.#id(), name, input: reply.structured });
    }
    const usesTools = content.some((block) => field(block, "type") === "tool_use");
    const scripted = reply.usage ?? { input: 10, output: 5 };
    let usage = scripted;
    if (this.measureUsage) {
      const measured = this.cache.use(request.body);
      this.measured.push(measured);
      usage = { ...measured, output: scripted.output };
    }
    return {
      status: 200,
      body: {
        id: `msg_fake_${this.requests.length}`,
        type: "message",
        role: "assistant",
        model: reply.model ?? field(request.body, "model"),
        content,
        stop_reason: reply.stopReason ?? (usesTools ? "tool_use" : "end_turn"),
        stop_sequence: null,
        usage: {
          input_tokens: usage.input,
          output_tokens: usage.output,
          cache_creation_input_tokens: usage.cacheWrite ?? 0,
          cache_read_input_tokens: usage.cacheRead ?? 0,
        },
      },
    };
  }

  #id(): string {
    this.#ids += 1;
    return `toolu_fake_${this.#ids}`;
  }
}

/** The request rules of the Messages API that the adapter could get wrong. */
function checkBody(body: unknown): string | undefined {
  if (typeof field(body, "model") !== "string") return "model: Field required";
  const maxTokens = field(body, "max_tokens");
  if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) return "max_tokens: must be a positive integer";
  const tools = list(body, "tools");
  for (const [i, tool] of tools.entries()) {
    if (typeof field(tool, "name") !== "string") return `tools.${i}.name: Field required`;
    if (field(field(tool, "input_schema"), "type") !== "object") return `tools.${i}.input_schema: type must be object`;
  }
  const choice = field(body, "tool_choice");
  if (field(choice, "type") === "tool" && !tools.some((tool) => field(tool, "name") === field(choice, "name"))) {
    return `tool_choice: no tool named ${String(field(choice, "name"))} with an input_schema`;
  }
  return checkMessages(list(body, "messages"));
}

function checkMessages(messages: unknown[]): string | undefined {
  if (!messages.length) return "messages: at least one message is required";
  let previous: unknown;
  for (const [i, message] of messages.entries()) {
    const role = field(message, "role");
    const expected = i % 2 === 0 ? "user" : "assistant";
    if (role !== expected) return `messages.${i}.role: roles must alternate user/assistant, starting with user`;
    const content = field(message, "content");
    const blocks = typeof content === "string" ? [{ type: "text", text: content }] : content;
    if (!Array.isArray(blocks) || !blocks.length) return `messages.${i}: content must be non-empty`;
    for (const [j, block] of blocks.entries()) {
      const type = field(block, "type");
      if (type === "text" && !field(block, "text")) return `messages.${i}.content.${j}: text must be non-empty`;
      if (type === "tool_use" && (typeof field(block, "id") !== "string" || !isObject(field(block, "input")))) {
        return `messages.${i}.content.${j}: tool_use needs an id and an input object`;
      }
    }
    const problem = checkToolResults(i, blocks, previous);
    if (problem) return problem;
    previous = message;
  }
  return undefined;
}

/** Each tool_use of an assistant turn needs a tool_result in the next turn, and each tool_result a tool_use. */
function checkToolResults(index: number, blocks: unknown[], previous: unknown): string | undefined {
  const uses = list(previous, "content").filter((block) => field(block, "type") === "tool_use");
  const useIds = new Set(uses.map((block) => field(block, "id")));
  const results = blocks.filter((block) => field(block, "type") === "tool_result");
  const firstOther = blocks.findIndex((block) => field(block, "type") !== "tool_result");
  if (results.length && firstOther !== -1 && firstOther < results.length) {
    return `messages.${index}: tool_result blocks must come first in the user message`;
  }
  for (const result of results) {
    const id = field(result, "tool_use_id");
    if (!useIds.has(id)) {
      return `messages.${index}: unexpected tool_use_id found in tool_result blocks: ${String(id)}. Each tool_result block must have a corresponding tool_use block in the previous message.`;
    }
  }
  const answered = new Set(results.map((result) => field(result, "tool_use_id")));
  const missing = [...useIds].filter((id) => !answered.has(id));
  if (missing.length) {
    return `messages.${index}: tool_use ids were found without tool_result blocks immediately after: ${missing.join(", ")}`;
  }
  return undefined;
}
