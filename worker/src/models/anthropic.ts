/**
 * The Anthropic Messages API behind the neutral ModelClient interface.
 * `baseUrl`, when set, is the API root without `/v1` (the SDK's convention).
 */

import Anthropic from "@anthropic-ai/sdk";
import type { TokenUsage } from "@edgeswarm/shared";
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

type Block = Anthropic.ContentBlockParam;
type Turn = { role: "user" | "assistant"; content: Block[] };

/**
 * Without an explicit timeout the SDK refuses non-streaming calls whose
 * max_tokens suggests more than 10 minutes; the run loop owns its own
 * deadlines, so this only bounds one HTTP call.
 */
const REQUEST_TIMEOUT_MS = 10 * 60_000;

/** A ModelClient for Anthropic's Messages API. */
export class AnthropicModel implements ModelClient {
  readonly #model: string;
  readonly #client: Anthropic | undefined;

  constructor(config: ModelConfig) {
    this.#model = config.model;
    // Without a key the SDK would fall back to env variables and profile files,
    // which a Worker has not got: fail each call plainly instead (see #api).
    this.#client = config.apiKey
      ? new Anthropic({
          apiKey: config.apiKey,
          // null, not undefined: undefined would make the SDK read ANTHROPIC_BASE_URL.
          baseURL: config.baseUrl ?? null,
          // The run loop retries durably, with its own backoff.
          maxRetries: 0,
          timeout: REQUEST_TIMEOUT_MS,
        })
      : undefined;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const message = await this.#create(
      {
        model: this.#model,
        max_tokens: request.maxTokens,
        ...(request.system
          ? {
              system: request.cache
                ? [{ type: "text", text: request.system, cache_control: EPHEMERAL }]
                : request.system,
            }
          : {}),
        messages: toMessages(request.messages, request.cache === true),
        ...(request.tools.length
          ? {
              tools: request.tools.map((tool) => ({
                name: tool.name,
                description: tool.description,
                input_schema: tool.inputSchema as Anthropic.Tool.InputSchema,
              })),
            }
          : {}),
      },
      request.signal,
    );
    const toolCalls: ToolCall[] = [];
    const texts: string[] = [];
    for (const block of message.content) {
      if (block.type === "text") texts.push(block.text);
      else if (block.type === "tool_use") toolCalls.push({ id: block.id, name: block.name, input: block.input });
    }
    return {
      text: texts.join(""),
      toolCalls,
      usage: toUsage(message.usage),
      stopReason: message.stop_reason ?? "unknown",
      model: message.model,
    };
  }

  /** Forces one tool whose input schema is the requested schema: its input is the value. */
  async structured(request: StructuredRequest): Promise<StructuredResponse> {
    const name = request.schemaName;
    const message = await this.#create(
      {
        model: this.#model,
        max_tokens: request.maxTokens,
        ...(request.system ? { system: request.system } : {}),
        messages: [{ role: "user", content: request.prompt }],
        tools: [
          {
            name,
            description: `Answer with ${name}.`,
            input_schema: request.schema as Anthropic.Tool.InputSchema,
          },
        ],
        tool_choice: { type: "tool", name },
      },
      request.signal,
    );
    // A tool input cut off by max_tokens is not the object the schema describes.
    const block = message.content.find((b) => b.type === "tool_use" && b.name === name);
    if (message.stop_reason === "max_tokens" || !block || block.type !== "tool_use") {
      throw new ModelError(
        `anthropic: the model did not return a complete ${name} (stop_reason ${message.stop_reason}); ` +
          "raise maxTokens if it was cut off",
        { retryable: false },
      );
    }
    return {
      value: block.input,
      usage: toUsage(message.usage),
      stopReason: message.stop_reason ?? "unknown",
      model: message.model,
    };
  }

  async #create(body: Anthropic.MessageCreateParamsNonStreaming, signal: AbortSignal | undefined) {
    if (!this.#client) throw new ModelError("anthropic: no API key configured", { retryable: false });
    try {
      return await this.#client.messages.create(body, signal ? { signal } : undefined);
    } catch (err) {
      throw toModelError(err, "anthropic", signal);
    }
  }
}

const EPHEMERAL = { type: "ephemeral" } as const;

/**
 * Neutral turns to Messages API turns. Anthropic wants user and assistant to
 * alternate, so adjacent turns of one role (tool results, then a user nudge)
 * merge into one, with the tool_result blocks first, as the API requires.
 */
export function toMessages(messages: ChatMessage[], cache = false): Anthropic.MessageParam[] {
  const turns: Turn[] = [];
  for (const message of messages) {
    const turn = toTurn(message);
    const end = turn.content.at(-1);
    if (cache && message.cacheBreakpoint && end) {
      turn.content[turn.content.length - 1] = { ...end, cache_control: EPHEMERAL } as Block;
    }
    const last = turns.at(-1);
    if (last && last.role === turn.role) last.content.push(...turn.content);
    else turns.push(turn);
  }
  return turns.map(({ role, content }) => {
    if (role === "user") {
      content.sort((a, b) => Number(b.type === "tool_result") - Number(a.type === "tool_result"));
      const only = content[0];
      if (content.length === 1 && only?.type === "text" && !only.cache_control) return { role, content: only.text };
    }
    return { role, content };
  });
}

function toTurn(message: ChatMessage): Turn {
  switch (message.role) {
    case "user":
      return { role: "user", content: [{ type: "text", text: message.content }] };
    case "tool":
      return {
        role: "user",
        content: message.results.map((result) => ({
          type: "tool_result",
          tool_use_id: result.toolCallId,
          content: result.content,
          is_error: result.isError === true,
        })),
      };
    case "assistant": {
      const content: Block[] = [];
      if (message.text) content.push({ type: "text", text: message.text });
      for (const call of message.toolCalls) {
        // The API wants an object; a call replayed from another provider may have failed to parse.
        const input = typeof call.input === "object" && call.input !== null && !Array.isArray(call.input);
        content.push({ type: "tool_use", id: call.id, name: call.name, input: input ? call.input : {} });
      }
      // The API rejects an empty assistant turn (a model can answer with nothing).
      if (!content.length) content.push({ type: "text", text: "(no answer)" });
      return { role: "assistant", content };
    }
  }
}

/** Total input: the uncached tokens plus those written to and read from the prompt cache. */
function toUsage(usage: Anthropic.Usage): TokenUsage {
  const read = usage.cache_read_input_tokens ?? 0;
  const written = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: usage.input_tokens + written + read,
    outputTokens: usage.output_tokens,
    ...(usage.cache_read_input_tokens != null ? { cacheReadTokens: read } : {}),
    ...(usage.cache_creation_input_tokens != null ? { cacheWriteTokens: written } : {}),
  };
}
