import type { ModelRef } from "@edgeswarm/shared";
import { type Context, type Span, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ChatRequest, ChatResponse, ModelClient, StructuredRequest, StructuredResponse } from "../models/model.ts";
import { content, type Telemetry } from "./telemetry.ts";

/**
 * The OpenTelemetry GenAI semantic conventions edgeswarm follows: the first
 * standalone release, whose status is still Development. Attribute names may
 * change with the next; docs/observability.md lists what each span carries.
 */
export const GENAI_SEMCONV_VERSION = "semantic-conventions-genai v0.1.0";

/**
 * A ModelClient whose every call is a `chat {model}` client span under
 * `parent`, with the request and response models, the token usage (cache
 * reads and writes where the provider reports them) and the finish reason.
 * Prompts and replies go in only with EDGESWARM_TRACE_CONTENT=1, cut.
 */
export function tracedModel(
  client: ModelClient,
  ref: ModelRef,
  t: Telemetry,
  parent: Context,
  onEnd: () => void,
): ModelClient {
  const call = async <R extends ChatResponse | StructuredResponse>(
    input: unknown,
    send: () => Promise<R>,
  ): Promise<R> => {
    const span = t.tracer.startSpan(
      `chat ${ref.model}`,
      {
        kind: SpanKind.CLIENT,
        startTime: Date.now(),
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": ref.provider,
          "gen_ai.request.model": ref.model,
        },
      },
      parent,
    );
    setContent(span, "gen_ai.input.messages", t, input);
    try {
      const answer = await send();
      span.setAttributes({
        "gen_ai.response.model": answer.model,
        "gen_ai.response.finish_reasons": [answer.stopReason],
        "gen_ai.usage.input_tokens": answer.usage.inputTokens,
        "gen_ai.usage.output_tokens": answer.usage.outputTokens,
        ...(answer.usage.cacheReadTokens !== undefined
          ? { "gen_ai.usage.cache_read.input_tokens": answer.usage.cacheReadTokens }
          : {}),
        ...(answer.usage.cacheWriteTokens !== undefined
          ? { "gen_ai.usage.cache_creation.input_tokens": answer.usage.cacheWriteTokens }
          : {}),
      });
      setContent(span, "gen_ai.output.messages", t, "text" in answer ? answer.text : answer.value);
      return answer;
    } catch (err) {
      const type = err instanceof Error ? err.name : "Error";
      span.setAttribute("error.type", type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      throw err;
    } finally {
      span.end(Date.now());
      onEnd();
    }
  };
  return {
    chat: (request: ChatRequest) => call(request.messages, () => client.chat(request)),
    structured: (request: StructuredRequest) => call(request.prompt, () => client.structured(request)),
  };
}

function setContent(span: Span, name: string, t: Telemetry, value: unknown): void {
  const text = content(t, typeof value === "string" ? value : JSON.stringify(value));
  if (text !== undefined) span.setAttribute(name, text);
}
