/**
 * One conformance suite that every model adapter passes, each against a fake
 * of its provider: real HTTP on 127.0.0.1, through the real SDKs, with the
 * fakes checking the wire protocol (keys, tool call pairing, schemas).
 */

import type { Provider } from "@edgeswarm/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createModel } from "../../worker/src/models/index.ts";
import { type ChatRequest, type ModelClient, ModelError, type ToolSpec } from "../../worker/src/models/model.ts";
import { FakeAnthropic } from "../fakes/anthropic.ts";
import { FakeOpenAI } from "../fakes/openai.ts";
import { type FakeProvider, field, list, reply } from "../fakes/server.ts";

const KEY = "test-key-0123456789";

const RUN_CODE: ToolSpec = {
  name: "run_code",
  description: "Runs Python code in the sandbox.",
  inputSchema: { type: "object", properties: { code: { type: "string" } }, required: ["code"] },
};

const PLAN_SCHEMA = {
  type: "object",
  properties: { steps: { type: "array", items: { type: "string" } } },
  required: ["steps"],
  additionalProperties: false,
};

interface Impl {
  provider: Provider;
  start(): Promise<FakeProvider>;
  /** The base URL the SDK wants for the fake (OpenAI's includes /v1). */
  baseUrl(fake: FakeProvider): string;
  stopReasons: { end: string; tool: string };
  /** The provider's own words for a bad key, which the ModelError must carry. */
  badKeyText: RegExp;
  /** Whether tool arguments travel as text that can fail to parse (OpenAI's do; Anthropic's are JSON). */
  textArguments: boolean;
  /** The tool results a request carried, as [tool call id, content]. */
  toolResults(body: unknown): [unknown, unknown][];
  /** The JSON schema a structured-output request carried. */
  schema(body: unknown): unknown;
}

const anthropic: Impl = {
  provider: "anthropic",
  start: () => FakeAnthropic.start({ apiKey: KEY }),
  baseUrl: (fake) => fake.url,
  stopReasons: { end: "end_turn", tool: "tool_use" },
  badKeyText: /invalid x-api-key/,
  textArguments: false,
  toolResults: (body) =>
    list(body, "messages")
      .flatMap((message) => list(message, "content"))
      .filter((block) => field(block, "type") === "tool_result")
      .map((block) => [field(block, "tool_use_id"), field(block, "content")]),
  schema: (body) => field(list(body, "tools")[0], "input_schema"),
};

const openaiLike = (provider: Provider, tokenLimitParam: "max_tokens" | "max_completion_tokens"): Impl => ({
  provider,
  start: () => FakeOpenAI.start({ apiKey: KEY, tokenLimitParam }),
  baseUrl: (fake) => `${fake.url}/v1`,
  stopReasons: { end: "stop", tool: "tool_calls" },
  badKeyText: /Incorrect API key provided/,
  textArguments: true,
  toolResults: (body) =>
    list(body, "messages")
      .filter((message) => field(message, "role") === "tool")
      .map((message) => [field(message, "tool_call_id"), field(message, "content")]),
  schema: (body) => field(field(field(body, "response_format"), "json_schema"), "schema"),
});

const IMPLS: Impl[] = [
  anthropic,
  openaiLike("openai", "max_completion_tokens"),
  openaiLike("openai-compatible", "max_tokens"),
];

function chatRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    system: "You are a careful coder.",
    messages: [{ role: "user", content: "Print 1." }],
    tools: [RUN_CODE],
    maxTokens: 1024,
    ...overrides,
  };
}

/** The ModelError a call failed with (fails the test when it succeeded, or threw something else). */
async function failure(call: Promise<unknown>): Promise<ModelError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelError);
  return err as ModelError;
}

describe.each(IMPLS)("$provider adapter", (impl) => {
  let fake: FakeProvider;
  let model: ModelClient;
  const withKey = (apiKey: string) =>
    createModel({ provider: impl.provider, model: "test-model", baseUrl: impl.baseUrl(fake), apiKey });

  beforeEach(async () => {
    fake = await impl.start();
    model = withKey(KEY);
  });
  afterEach(async () => {
    await fake.close();
  });

  it("answers with plain text", async () => {
    fake.enqueue(reply.text("1"));
    const answer = await model.chat(chatRequest());
    expect(answer).toMatchObject({ text: "1", toolCalls: [], stopReason: impl.stopReasons.end });
    expect(fake.violations).toEqual([]);
    expect(JSON.stringify(fake.requests[0]?.body)).toContain("You are a careful coder.");
  });

  it("round-trips a tool call: the second request answers the call", async () => {
    fake.enqueue(reply.toolUse("run_code", { code: "print(1)" }, { text: "Running it." }), reply.text("Done."));
    const first = await model.chat(chatRequest());
    expect(first.stopReason).toBe(impl.stopReasons.tool);
    expect(first.text).toBe("Running it.");
    expect(first.toolCalls).toHaveLength(1);
    const call = first.toolCalls[0]!;
    expect(call).toMatchObject({ name: "run_code", input: { code: "print(1)" } });

    const second = await model.chat(
      chatRequest({
        messages: [
          { role: "user", content: "Print 1." },
          { role: "assistant", text: first.text, toolCalls: first.toolCalls },
          { role: "tool", results: [{ toolCallId: call.id, content: "1\n" }] },
          // A nudge right after the results: Anthropic needs it merged into the same user turn.
          { role: "user", content: "Call finish when done." },
        ],
      }),
    );
    expect(second.text).toBe("Done.");
    expect(fake.violations).toEqual([]);
    expect(impl.toolResults(fake.requests[1]?.body)).toEqual([[call.id, "1\n"]]);
  });

  it("sends a tool result that answers no call, and the fake refuses it (400, not retryable)", async () => {
    const err = await failure(
      model.chat(
        chatRequest({
          messages: [
            { role: "user", content: "Print 1." },
            { role: "assistant", text: "", toolCalls: [{ id: "call_a", name: "run_code", input: { code: "1" } }] },
            { role: "tool", results: [{ toolCallId: "call_b", content: "1" }] },
          ],
        }),
      ),
    );
    expect(err).toMatchObject({ retryable: false, status: 400 });
    expect(fake.violations).toHaveLength(1);
    expect(err.message).toContain(fake.violations[0]!.message);
  });

  it("replays a malformed call from history in a form the provider accepts", async () => {
    fake.enqueue(reply.text("ok"));
    await model.chat(
      chatRequest({
        messages: [
          { role: "user", content: "Print 1." },
          {
            role: "assistant",
            text: "",
            toolCalls: [{ id: "call_x", name: "run_code", input: undefined, raw: "{oops" }],
          },
          { role: "tool", results: [{ toolCallId: "call_x", content: "malformed arguments", isError: true }] },
        ],
      }),
    );
    expect(fake.violations).toEqual([]);
  });

  it("returns structured output, sending the schema", async () => {
    const plan = { steps: ["write the code", "run it"] };
    fake.enqueue(reply.structured(plan, { input: 40, output: 20 }));
    const answer = await model.structured({
      system: "You plan.",
      prompt: "Plan: print 1.",
      schemaName: "plan",
      schema: PLAN_SCHEMA,
      maxTokens: 2048,
    });
    expect(answer).toMatchObject({ value: plan, usage: { inputTokens: 40, outputTokens: 20 } });
    expect(answer.model).toBe(field(fake.requests[0]?.body, "model"));
    expect(impl.schema(fake.requests[0]?.body)).toEqual(PLAN_SCHEMA);
    expect(fake.violations).toEqual([]);
  });

  it("maps usage: every input token counts, and the cache's reads and writes where the provider says", async () => {
    fake.enqueue(reply.text("x", { input: 1234, output: 56, cacheRead: 100, cacheWrite: 7 }));
    const answer = await model.chat(chatRequest());
    expect(answer.usage).toEqual(
      impl.provider === "anthropic"
        ? { inputTokens: 1341, outputTokens: 56, cacheReadTokens: 100, cacheWriteTokens: 7 }
        : { inputTokens: 1334, outputTokens: 56, cacheReadTokens: 100 },
    );
    expect(answer.model).toBe(field(fake.requests[0]?.body, "model"));
  });

  it("sends the token limit in the parameter the provider takes", async () => {
    fake.enqueue(reply.text("x"));
    await model.chat(chatRequest({ maxTokens: 777 }));
    const body = fake.requests[0]?.body;
    const param = impl.provider === "openai" ? "max_completion_tokens" : "max_tokens";
    expect(field(body, param)).toBe(777);
  });

  it("429 with retry-after: 2 is retryable after 2000 ms", async () => {
    fake.enqueue(reply.error(429, "Rate limit reached", { retryAfter: 2 }));
    const err = await failure(model.chat(chatRequest()));
    expect(err).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2000 });
    expect(err.message).toContain("Rate limit reached");
  });

  it("reads retry-after-ms, and retry-after as an HTTP date", async () => {
    fake.enqueue(
      { kind: "error", status: 503, message: "busy", headers: { "retry-after-ms": "1500" } },
      reply.error(429, "slow down", { retryAfter: new Date(Date.now() + 30_000).toUTCString() }),
    );
    expect(await failure(model.chat(chatRequest()))).toMatchObject({ retryable: true, retryAfterMs: 1500 });
    const dated = await failure(model.chat(chatRequest()));
    expect(dated.retryAfterMs).toBeGreaterThan(25_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it("500 is retryable", async () => {
    fake.enqueue(reply.error(500, "Internal server error"));
    const err = await failure(model.chat(chatRequest()));
    expect(err).toMatchObject({ retryable: true, status: 500, retryAfterMs: undefined });
  });

  it("404 (unknown model) is not retryable", async () => {
    fake.enqueue(reply.error(404, "model: test-model does not exist"));
    const err = await failure(model.chat(chatRequest()));
    expect(err).toMatchObject({ retryable: false, status: 404 });
    expect(err.message).toBe(`${impl.provider}: 404 model: test-model does not exist`);
  });

  it("401 for a wrong key is not retryable and carries the provider's words", async () => {
    const err = await failure(withKey("wrong-key-0000").chat(chatRequest()));
    expect(err).toMatchObject({ retryable: false, status: 401 });
    expect(err.message).toMatch(new RegExp(`^${impl.provider}: 401 `));
    expect(err.message).toMatch(impl.badKeyText);
    expect(fake.violations).toHaveLength(1);
  });

  it("connection refused (a closed port) is retryable", async () => {
    await fake.close();
    const err = await failure(model.chat(chatRequest()));
    expect(err).toMatchObject({ retryable: true, status: undefined });
    expect(err.message).toMatch(new RegExp(`^${impl.provider}: `));
  });

  it("an aborted call is not retryable", async () => {
    const err = await failure(model.chat(chatRequest({ signal: AbortSignal.abort() })));
    expect(err.retryable).toBe(false);
  });

  it("a call past its own deadline (AbortSignal.timeout) is retryable", async () => {
    fake.enqueue(async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return reply.text("too late");
    });
    const err = await failure(model.chat(chatRequest({ signal: AbortSignal.timeout(50) })));
    expect(err).toMatchObject({ retryable: true, message: `${impl.provider}: the request timed out` });
  });

  it("answers many concurrent calls from a default reply", async () => {
    fake.setDefault((request) => reply.text(`echo ${list(request.body, "messages").length}`));
    const answers = await Promise.all(Array.from({ length: 50 }, () => model.chat(chatRequest())));
    expect(new Set(answers.map((a) => a.text))).toEqual(new Set([`echo ${impl.provider === "anthropic" ? 1 : 2}`]));
    expect(fake.requests).toHaveLength(50);
  });
});

describe("openai-compatible server without a key", () => {
  it("sends a placeholder key, so the SDK runs", async () => {
    const fake = await FakeOpenAI.start({ tokenLimitParam: "max_tokens" });
    try {
      fake.enqueue(reply.text("hi"));
      const model = createModel({ provider: "openai-compatible", model: "llama3", baseUrl: `${fake.url}/v1` });
      expect((await model.chat(chatRequest())).text).toBe("hi");
      expect(fake.requests[0]?.headers.authorization).toMatch(/^Bearer \S+/);
    } finally {
      await fake.close();
    }
  });

  it("fails plainly, not retryable, for openai and anthropic without a key", async () => {
    for (const provider of ["openai", "anthropic"] as const) {
      const err = await failure(
        createModel({ provider, model: "m", baseUrl: "http://127.0.0.1:9" }).chat(chatRequest()),
      );
      expect(err).toMatchObject({ retryable: false, message: `${provider}: no API key configured` });
    }
  });
});

// Only where tool arguments travel as text can they fail to parse (Anthropic's arrive as JSON).
describe.each(IMPLS.filter((impl) => impl.textArguments))("$provider adapter, arguments as text", (impl) => {
  let fake: FakeProvider;
  beforeEach(async () => {
    fake = await impl.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("keeps a malformed tool call: input undefined, raw kept", async () => {
    const model = createModel({
      provider: impl.provider,
      model: "test-model",
      baseUrl: impl.baseUrl(fake),
      apiKey: KEY,
    });
    fake.enqueue(reply.toolCalls([{ name: "run_code", rawArguments: '{"code": "print(1)' }]));
    const answer = await model.chat(chatRequest());
    expect(answer.toolCalls[0]).toMatchObject({ name: "run_code", input: undefined, raw: '{"code": "print(1)' });
  });
});
