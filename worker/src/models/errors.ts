/**
 * Turns whatever a provider SDK threw into a classified ModelError. Structured
 * fields decide (the error class, the HTTP status); the message text is only a
 * last resort for errors that carry neither.
 */

import {
  APIConnectionError as AnthropicConnectionError,
  AnthropicError,
  APIUserAbortError as AnthropicUserAbortError,
} from "@anthropic-ai/sdk";
import {
  APIConnectionError as OpenAIConnectionError,
  OpenAIError,
  APIUserAbortError as OpenAIUserAbortError,
} from "openai";
import { ModelError } from "./model.ts";

/** Errors with no status that usually pass: the network, DNS, a reset or timed-out socket. */
const TRANSIENT_TEXT =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|fetch failed|network|socket|timed? ?out/i;

/**
 * Classifies `err`: 408, 409, 429, 5xx and connection failures are retryable;
 * other 4xx (bad key, bad request, unknown model) and aborts are not, except
 * an abort by the call's own deadline (`signal` from AbortSignal.timeout). The
 * message starts with `provider` (by default, the SDK the error came from) and
 * carries the provider's own words, e.g. "anthropic: 401 invalid x-api-key".
 */
export function toModelError(err: unknown, provider?: string, signal?: AbortSignal): ModelError {
  if (err instanceof ModelError) return err;
  const label = provider ?? sdkOf(err);

  // The abort classes extend APIError with no status: test them before anything else.
  if (
    err instanceof AnthropicUserAbortError ||
    err instanceof OpenAIUserAbortError ||
    (err instanceof Error && err.name === "AbortError")
  ) {
    // The SDKs throw the same class for any abort; only the signal's reason tells a deadline apart.
    if (signal?.aborted && fieldOf(signal.reason, "name") === "TimeoutError") {
      return new ModelError(`${label}: the request timed out`, { retryable: true, cause: err });
    }
    return new ModelError(`${label}: request aborted`, { retryable: false, cause: err });
  }
  // Covers the SDKs' APIConnectionTimeoutError too, a subclass.
  if (err instanceof AnthropicConnectionError || err instanceof OpenAIConnectionError) {
    return new ModelError(`${label}: ${err.message}${causeText(err)}`, { retryable: true, cause: err });
  }

  const status = fieldOf(err, "status");
  if (typeof status === "number") {
    return new ModelError(`${label}: ${status} ${providerText(err)}`, {
      retryable: isRetryableStatus(status),
      status,
      retryAfterMs: retryAfterMs(fieldOf(err, "headers")),
      cause: err,
    });
  }

  const message = err instanceof Error ? err.message : String(err);
  return new ModelError(`${label}: ${message}${causeText(err)}`, {
    retryable: TRANSIENT_TEXT.test(message + causeText(err)),
    cause: err,
  });
}

/** 408 (timeout), 409 (conflict; OpenAI's advice is to retry), 429 (rate limit) and any 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * How long the provider asked us to wait, from `retry-after-ms` (milliseconds,
 * OpenAI's) or `retry-after` (seconds or an HTTP date); undefined when neither
 * header is there or parses.
 */
export function retryAfterMs(headers: unknown): number | undefined {
  const ms = Number.parseFloat(headerOf(headers, "retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const value = headerOf(headers, "retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number.parseFloat(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sdkOf(err: unknown): string {
  if (err instanceof AnthropicError) return "anthropic";
  if (err instanceof OpenAIError) return "openai";
  return "model";
}

/**
 * The provider's own error message. The SDKs keep the parsed body in `error`:
 * Anthropic the whole body ({type, error: {type, message}}), OpenAI its
 * `error` member ({message, type, code}); Ollama and some proxies send a bare
 * string. The SDKs' `message` is the fallback (for Anthropic it is JSON).
 */
function providerText(err: unknown): string {
  const body = fieldOf(err, "error");
  if (typeof body === "string" && body) return body;
  const direct = fieldOf(body, "message");
  if (typeof direct === "string" && direct) return direct;
  const nested = fieldOf(fieldOf(body, "error"), "message");
  if (typeof nested === "string" && nested) return nested;
  const message = err instanceof Error ? err.message : "";
  // The SDKs prefix their message with the status, which we add ourselves.
  return message.replace(/^\d{3} /, "") || "(no error message)";
}

/** The detail a connection error hides in its cause chain ("fetch failed", "ECONNREFUSED"). */
function causeText(err: unknown): string {
  const parts: string[] = [];
  let cause = fieldOf(err, "cause");
  for (let depth = 0; cause !== undefined && depth < 3; depth++) {
    const code = fieldOf(cause, "code");
    const message = fieldOf(cause, "message");
    if (typeof message === "string" && message) parts.push(message);
    else if (typeof code === "string") parts.push(code);
    cause = fieldOf(cause, "cause");
  }
  return parts.length ? ` (${parts.join(": ")})` : "";
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = fieldOf(headers, name);
  return typeof value === "string" ? value : undefined;
}

function fieldOf(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
