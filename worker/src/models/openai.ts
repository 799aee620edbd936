/**
 * OpenAI's Chat Completions API behind the neutral ModelClient interface, for
 * OpenAI itself and for the servers that speak the same API (Ollama, vLLM,
 * llama.cpp). `baseUrl`, when set, includes the `/v1` (the SDK's convention,
 * e.g. http://localhost:11434/v1 for Ollama).
 */

import type { Provider, TokenUsage } from "@edgeswarm/shared";
import OpenAI from "openai";
import { toModelError } from "./errors.ts";
import {
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type ModelClient,
  type ModelConfig,
  ModelError,
  type StructuredRequest,
  type StructuredResponse,
  type ToolCall,
} from "./model.ts";

/** Sent as the key to an openai-compatible server that needs none: the SDK refuses to run without one. */
const NO_KEY = "no-key";

/** A ModelClient for the Chat Completions API (provider `openai` or `openai-compatible`). */
export class OpenAIModel implements ModelClient {
  readonly #model: string;
  readonly #provider: Provider;
  readonly #client: OpenAI | undefined;

  constructor(config: ModelConfig) {
    this.#model = config.model;
    this.#provider = config.provider;
    const apiKey = config.apiKey || (config.provider === "openai-compatible" ? NO_KEY : undefined);
    // Without a key the SDK would read OPENAI_API_KEY or throw: fail each call plainly instead.
    this.#client = apiKey
      ? new OpenAI({
          apiKey,
          // null, not undefined: undefined makes the SDK read OPENAI_BASE_URL, OPENAI_ORG_ID, ...
          baseURL: config.baseUrl ?? null,
          organization: null,
          project: null,
          // The run loop retries durably, with its own backoff.
          maxRetries: 0,
        })
      : undefined;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const completion = await this.#create(
      {
        messages: toMessages(request.system, request.messages),
        ...(request.tools.length
          ? {
              tools: request.tools.map((tool) => ({
                type: "function" as const,
                function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
              })),
            }
          : {}),
      },
      request.maxTokens,
      request.signal,
    );
    const { message, finish_reason } = firstChoice(completion, this.#provider);
    return {
      // A refusal comes instead of content; the run loop should see it.
      text: message.content ?? message.refusal ?? "",
      toolCalls: (message.tool_calls ?? []).flatMap((call, index) =>
        call.type === "custom" ? [] : [toToolCall(call, index)],
      ),
      usage: toUsage(completion.usage),
      stopReason: finish_reason ?? "unknown",
      model: completion.model ?? this.#model,
    };
  }

  /** Structured outputs: the model's content is constrained to the schema (strict mode). */
  async structured(request: StructuredRequest): Promise<StructuredResponse> {
    const completion = await this.#create(
      {
        messages: [
          ...(request.system ? [{ role: "system" as const, content: request.system }] : []),
          { role: "user", content: request.prompt },
        ],
        response_format: {
          type: "json_schema",
          json_schema: { name: request.schemaName, schema: request.schema, strict: true },
        },
      },
      request.maxTokens,
      request.signal,
    );
    const label = this.#provider;
    const { message, finish_reason } = firstChoice(completion, label);
    if (message.refusal) throw new ModelError(`${label}: the model refused: ${message.refusal}`, { retryable: false });
    if (finish_reason === "length") {
      throw new ModelError(`${label}: the ${request.schemaName} answer was cut off at maxTokens`, { retryable: false });
    }
    const content = message.content ?? "";
    const value = parseJson(content) ?? parseJson(unfence(content));
    if (value === undefined) {
      throw new ModelError(`${label}: the ${request.schemaName} answer is not JSON: ${content.slice(0, 200)}`, {
        retryable: false,
      });
    }
    return {
      value,
      usage: toUsage(completion.usage),
      stopReason: finish_reason ?? "unknown",
      model: completion.model ?? this.#model,
    };
  }

  async #create(
    body: Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, "model">,
    maxTokens: number,
    signal: AbortSignal | undefined,
  ): Promise<OpenAI.ChatCompletion> {
    if (!this.#client) throw new ModelError(`${this.#provider}: no API key configured`, { retryable: false });
    // o-series models reject max_tokens; most local servers know nothing else.
    const limit = this.#provider === "openai" ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens };
    try {
      return await this.#client.chat.completions.create(
        { model: this.#model, ...body, ...limit },
        signal ? { signal } : undefined,
      );
    } catch (err) {
      throw toModelError(err, this.#provider, signal);
    }
  }
}

/** Neutral turns to chat messages: the system prompt first, one `tool` message per result. */
export function toMessages(system: string, messages: ChatMessage[]): OpenAI.ChatCompletionMessageParam[] {
  const out: OpenAI.ChatCompletionMessageParam[] = system ? [{ role: "system", content: system }] : [];
  for (const message of messages) {
    switch (message.role) {
      case "user":
        out.push({ role: "user", content: message.content });
        break;
      case "assistant":
        out.push({
          role: "assistant",
          content: message.text || null,
          // Some local servers reject an empty tool_calls array.
          ...(message.toolCalls.length
            ? {
                tool_calls: message.toolCalls.map((call) => ({
                  id: call.id,
                  type: "function" as const,
                  // Not `raw`: local servers parse these arguments in their chat templates, and a
                  // malformed call replayed verbatim would fail every later request of the run.
                  function: { name: call.name, arguments: JSON.stringify(call.input ?? {}) },
                })),
              }
            : {}),
        });
        break;
      case "tool":
        for (const result of message.results) {
          // The API has no error flag for tool results: say it in the content.
          const content = result.isError ? `Error: ${result.content}` : result.content;
          out.push({ role: "tool", tool_call_id: result.toolCallId, content });
        }
        break;
    }
  }
  return out;
}

function firstChoice(completion: OpenAI.ChatCompletion, label: string): OpenAI.ChatCompletion.Choice {
  const choice = completion.choices?.[0];
  if (!choice?.message) throw new ModelError(`${label}: the answer has no choices`, { retryable: false });
  return choice;
}

function toToolCall(call: OpenAI.ChatCompletionMessageFunctionToolCall, index: number): ToolCall {
  // Local servers sometimes leave out the id, or send the arguments as an object.
  const args: unknown = call.function.arguments;
  const raw = typeof args === "string" ? args : JSON.stringify(args ?? {});
  return { id: call.id || `call_${index}`, name: call.function.name, input: parseJson(raw), raw };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Some local models wrap JSON in a markdown fence even under a response format. */
function unfence(text: string): string {
  return /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text)?.[1] ?? text;
}

/** Some openai-compatible servers send no usage. */
function toUsage(usage: OpenAI.CompletionUsage | undefined): TokenUsage {
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  return {
    inputTokens: usage?.prompt_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
    ...(cached != null ? { cacheReadTokens: cached } : {}),
  };
}
