/**
 * The model layer: one provider-neutral interface for the planner and the
 * coder, with an implementation per provider (anthropic.ts, openai.ts). The
 * run loop speaks only these types, so a conversation stored in the run's
 * event log can be replayed to any provider.
 */

import type { Provider, TokenUsage, ToolCallRecord } from "@edgeswarm/shared";

/** Where and how to reach one model. */
export interface ModelConfig {
  provider: Provider;
  model: string;
  /** The API's base URL; the SDK's default when absent. */
  baseUrl?: string | undefined;
  /** May be absent for an openai-compatible server that needs none. */
  apiKey?: string | undefined;
}

/** A JSON Schema object, as the providers take it. */
export type JsonSchema = Record<string, unknown>;

export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: JsonSchema;
}

/**
 * A tool call as the model made it: `input` is the parsed JSON, or undefined
 * when `raw` (the arguments text, where the provider sends text) did not parse.
 * The run keeps it as a ToolCallRecord, with its own id.
 */
export type ToolCall = Pick<ToolCallRecord, "id" | "name" | "input"> & { raw?: string | undefined };

export interface ToolResult {
  toolCallId: string;
  content: string;
  isError?: boolean | undefined;
}

/**
 * One turn of a conversation, provider-neutral. `cacheBreakpoint` marks the
 * end of the prefix the next request will repeat byte for byte: where a
 * provider that needs marking (Anthropic) is asked to cache, when the request
 * says `cache`.
 */
export type ChatMessage = (
  | { role: "user"; content: string }
  | { role: "assistant"; text: string; toolCalls: ToolCall[] }
  | { role: "tool"; results: ToolResult[] }
) & { cacheBreakpoint?: boolean };

export interface ChatRequest {
  system: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  maxTokens: number;
  /**
   * Mark the request for the provider's prompt cache where it needs marking
   * (Anthropic's cache_control): the system prompt with the tools, and the
   * message marked `cacheBreakpoint`. OpenAI caches a repeated prefix by itself.
   */
  cache?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface ChatResponse {
  text: string;
  toolCalls: ToolCall[];
  usage: TokenUsage;
  /** The provider's stop reason, as it said it ("end_turn", "tool_use", "stop", "tool_calls", ...). */
  stopReason: string;
  /** The model that answered, as the provider named it. */
  model: string;
}

export interface StructuredRequest {
  system: string;
  prompt: string;
  /** A short identifier for the schema (OpenAI's json_schema.name; Anthropic's tool name). */
  schemaName: string;
  schema: JsonSchema;
  maxTokens: number;
  signal?: AbortSignal | undefined;
}

export interface StructuredResponse {
  /** The parsed JSON the model produced; the caller validates it against its own zod schema. */
  value: unknown;
  usage: TokenUsage;
  stopReason: string;
  model: string;
}

/** A chat model with tools, and structured (JSON-schema) output. */
export interface ModelClient {
  chat(request: ChatRequest): Promise<ChatResponse>;
  structured(request: StructuredRequest): Promise<StructuredResponse>;
}

/**
 * A failed model call, classified. `retryable` failures (429, 5xx, a network
 * error) are retried by the run loop, durably, after `retryAfterMs` when the
 * provider said (retry-after), else after its own backoff. Others fail the run
 * with code `model_error` and `message`, which carries the provider's words.
 */
export class ModelError extends Error {
  override name = "ModelError";
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { retryable: boolean; status?: number | undefined; retryAfterMs?: number | undefined; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}
