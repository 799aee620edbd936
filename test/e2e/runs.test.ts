import type { RunEvent } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FakeAnthropic } from "../fakes/anthropic.ts";
import { FakeModels } from "../fakes/models.ts";
import type { FakeOpenAI } from "../fakes/openai.ts";
import { reply } from "../fakes/server.ts";
import { Api } from "../harness/api.ts";
import { anthropicToolResults, createRun, followRun, getRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack } from "../harness/stack.ts";
import { WorkerProcess } from "../harness/worker.ts";

// The swarm end to end: the real Worker and agents, real Docker, and fake model
// servers that the real SDKs talk to over HTTP.
let stack: Stack;
let models: FakeModels;
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;

beforeAll(async () => {
  models = await FakeModels.start("e2e-runs");
  ({ anthropic, openai } = models);
  stack = await startStack("e2e-runs", 1, 2, models.vars);
});
// Replies a test queued and did not use never answer the next test's requests.
afterEach(() => {
  models?.reset();
});
afterAll(async () => {
  await stack?.stop();
  await models?.close();
});

describe("runs", () => {
  it("heals itself: the traceback reaches the coder, the fix succeeds after 2 executions", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "values = [3, 4]\nprint(sum(values) / len(valuez))\n" }),
      (request) => {
        const results = anthropicToolResults(request.body);
        if (!results.some((r) => r.includes("NameError: name 'valuez' is not defined"))) {
          return reply.error(400, `the traceback did not reach the coder: ${JSON.stringify(results)}`);
        }
        return reply.toolUse("run_code", {
          language: "python",
          code: "values = [3, 4]\nprint(sum(values) / len(values))\n",
        });
      },
      reply.toolUse("finish", {
        summary: "prints the mean, 3.5",
        code: "print(sum(values) / len(values))",
        verdict: "success",
      }),
    );
    const id = await createRun(stack.api, { task: "Print the mean of 3 and 4.", planner: null });
    const { view, events } = await runToEnd(stack.api, id);
    expect(view.error).toBeNull();
    expect(view.status).toBe("succeeded");
    expect(view.iterations).toBe(2);
    expect(view.result).toMatchObject({ stdout: "3.5\n", summary: "prints the mean, 3.5" });
    const executions = events.filter((e) => e.type === "execution.finished");
    expect(executions.map((e) => e.payload.status)).toEqual(["failed", "succeeded"]);
    expect(view.usage.coder.inputTokens).toBeGreaterThan(0);
    expect(anthropic.violations).toEqual([]);
  });

  it("runs a multi-step plan in order, and a file written in step 1 is read in step 2", async () => {
    openai.enqueue(
      reply.structured({
        steps: [
          { goal: "Write the greeting to greeting.txt", successCriterion: "greeting.txt holds the greeting" },
          { goal: "Print the greeting from greeting.txt in capitals", successCriterion: "it prints HELLO FROM STEP 1" },
        ],
      }),
    );
    anthropic.enqueue(
      reply.toolUse("run_code", { code: "open('greeting.txt', 'w').write('hello from step 1')\nprint('written')" }),
      reply.toolUse("finish", { summary: "wrote greeting.txt", code: "…", verdict: "success" }),
      (request) => {
        const briefing = JSON.stringify((request.body as { messages: unknown[] }).messages[0]);
        if (!briefing.includes("Current step (2 of 2)") || !briefing.includes("greeting.txt")) {
          return reply.error(400, `step 2 was not briefed with the workspace: ${briefing}`);
        }
        return reply.toolUse("run_code", { code: "print(open('greeting.txt').read().upper())" });
      },
      reply.toolUse("finish", {
        summary: "printed it",
        code: "print(open('greeting.txt').read().upper())",
        verdict: "success",
      }),
    );
    const id = await createRun(stack.api, { task: "Greet, in two steps." });
    const { view, events } = await runToEnd(stack.api, id);
    expect(view.error).toBeNull();
    expect(view.status).toBe("succeeded");
    expect(view.plan?.map((p) => p.goal)).toEqual([
      "Write the greeting to greeting.txt",
      "Print the greeting from greeting.txt in capitals",
    ]);
    expect(events.filter((e) => e.type === "step.started").map((e) => e.payload.step)).toEqual([0, 1]);
    const outputs = events.flatMap((e) => (e.type === "execution.finished" ? [e.payload.stdout] : []));
    expect(outputs).toEqual(["written\n", "HELLO FROM STEP 1\n"]);
    expect(view.result?.files).toEqual([{ path: "greeting.txt", content: "hello from step 1", encoding: "utf8" }]);
    expect(view.usage.planner.inputTokens).toBeGreaterThan(0);
    // The planner was asked through structured output, with its schema.
    const planRequest = openai.requests.at(-1)?.body as {
      response_format?: { type?: string; json_schema?: { schema?: unknown } };
    };
    expect(planRequest.response_format?.type).toBe("json_schema");
    expect(planRequest.response_format?.json_schema?.schema).toBeTruthy();
    expect(openai.violations).toEqual([]);
    expect(anthropic.violations).toEqual([]);
  });

  it("parks for approval before each execution and continues once approved", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { code: "print('approved work')" }),
      reply.toolUse("finish", { summary: "done", code: "print('approved work')", verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Say something.", planner: null, approval: "always" });
    const seen: RunEvent[] = [];
    for await (const e of followRun(stack.api, id)) {
      seen.push(e);
      if (e.type === "approval.requested") break;
    }
    expect(seen.at(-1)).toMatchObject({ type: "approval.requested", payload: { code: "print('approved work')" } });
    expect((await getRun(stack.api, id)).status).toBe("awaiting_approval");
    expect(seen.some((e) => e.type === "execution.finished")).toBe(false);

    const res = await stack.api.raw(`/v1/runs/${id}/approval`, JSON.stringify({ approve: true }));
    expect(res.status).toBe(200);
    const { view } = await runToEnd(stack.api, id);
    expect(view).toMatchObject({ status: "succeeded", iterations: 1, result: { stdout: "approved work\n" } });
  });

  it("tells the coder when a human denies an execution", async () => {
    anthropic.enqueue(reply.toolUse("run_code", { code: "import shutil; shutil.rmtree('/workspace')" }), (request) => {
      const results = anthropicToolResults(request.body);
      if (!results.some((r) => r.includes("denied") && r.includes("too destructive"))) {
        return reply.error(400, `the denial did not reach the coder: ${JSON.stringify(results)}`);
      }
      return reply.toolUse("finish", { summary: "the reviewer refused; giving up", code: "", verdict: "failure" });
    });
    const id = await createRun(stack.api, { task: "Clean up.", planner: null, approval: "always" });
    for await (const e of followRun(stack.api, id)) if (e.type === "approval.requested") break;
    const res = await stack.api.raw(
      `/v1/runs/${id}/approval`,
      JSON.stringify({ approve: false, reason: "too destructive" }),
    );
    expect(res.status).toBe(200);
    const { view, events } = await runToEnd(stack.api, id);
    expect(events.some((e) => e.type === "execution.finished")).toBe(false);
    expect(view).toMatchObject({ status: "failed", error: { reason: "step_failed" } });
    expect(anthropic.violations).toEqual([]);
  });

  it("retries a 429 after its retry-after, then succeeds", async () => {
    anthropic.enqueue(
      reply.error(429, "rate limited, slow down", { type: "rate_limit_error", retryAfter: 1 }),
      reply.toolUse("run_code", { code: "print('after the wait')" }),
      reply.toolUse("finish", { summary: "ok", code: "print('after the wait')", verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Print something.", planner: null });
    const { view, events } = await runToEnd(stack.api, id);
    expect(view.status).toBe("succeeded");
    const retry = events.find((e) => e.type === "model.retry");
    expect(retry).toMatchObject({ payload: { role: "coder", attempt: 1, delayMs: 1000 } });
    expect(retry?.type === "model.retry" && retry.payload.message).toContain("rate limited, slow down");
    const replied = events.find((e) => e.type === "coder.replied");
    expect(Date.parse(replied?.at ?? "") - Date.parse(retry?.at ?? "")).toBeGreaterThanOrEqual(900);
  });
});

describe("runs: configuration and model errors", () => {
  let worker: WorkerProcess;
  let api: Api;
  beforeAll(async () => {
    // A Worker with a wrong Anthropic key and no OpenAI configuration at all.
    worker = await WorkerProcess.start({
      apiKeys: { "other-key-000000001": { tenant: "t", pools: ["p"] } },
      agentTokens: {},
      vars: { ANTHROPIC_API_KEY: "sk-ant-wrong-key", ANTHROPIC_BASE_URL: anthropic.url },
    });
    api = new Api(worker.url, "other-key-000000001");
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it("answers 422 model_not_configured naming the variable to set", async () => {
    const planned = await api.raw("/v1/runs", JSON.stringify({ task: "x" }));
    expect(planned.status).toBe(422);
    const body = (await planned.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("model_not_configured");
    expect(body.error.message).toContain("OPENAI_API_KEY");
    const local = await api.raw(
      "/v1/runs",
      JSON.stringify({ task: "x", planner: null, coder: { provider: "openai-compatible", model: "llama" } }),
    );
    expect(((await local.json()) as { error: { message: string } }).error.message).toContain("OPENAI_BASE_URL");
  });

  it("fails the run with model_error and the provider's message when the key is invalid", async () => {
    const id = await createRun(api, { task: "Print 1.", planner: null });
    const { view } = await runToEnd(api, id);
    expect(view.status).toBe("failed");
    expect(view.error?.reason).toBe("model_error");
    expect(view.error?.message).toMatch(/401/);
    expect(view.error?.message.toLowerCase()).toContain("key");
  });
});

describe("runs: bad input, tenants and listing", () => {
  const post = (body: string) => stack.api.raw("/v1/runs", body);

  it("answers 4xx with the error body to bad input", async () => {
    const cases: [string, number, string][] = [
      ["{oops", 400, "invalid_json"],
      ["{}", 400, "invalid_request"],
      [JSON.stringify({ task: "" }), 400, "invalid_request"],
      [JSON.stringify({ task: "x", maxIterations: 0 }), 400, "invalid_request"],
      [JSON.stringify({ task: "x", maxIterations: 51 }), 400, "invalid_request"],
      [JSON.stringify({ task: "x", timeoutMs: 999_999_999 }), 400, "invalid_request"],
      [JSON.stringify({ task: "x", planner: { provider: "nope" } }), 400, "invalid_request"],
      [
        JSON.stringify({ task: "x", coder: { provider: "anthropic", baseUrl: "file:///etc/passwd" } }),
        400,
        "invalid_request",
      ],
      [JSON.stringify({ task: "x", surprise: 1 }), 400, "invalid_request"],
      [JSON.stringify({ task: "x".repeat(40_000) }), 400, "invalid_request"],
      [JSON.stringify({ task: "x", pool: "pool-b" }), 403, "forbidden"],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(body);
      expect(res.status, body.slice(0, 80)).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    for (const path of ["/v1/runs/not-a-run", "/v1/runs/run_000000000000000000000000"]) {
      const res = await stack.api.get(path);
      expect(res.status).toBe(404);
    }
  });

  it("answers 409 to approving or cancelling a run in the wrong state, and 400 to a bad approval", async () => {
    anthropic.enqueue(reply.toolUse("finish", { summary: "nothing to do", code: "", verdict: "success" }));
    const id = await createRun(stack.api, { task: "Nothing.", planner: null });
    await runToEnd(stack.api, id);
    const approve = await stack.api.raw(`/v1/runs/${id}/approval`, JSON.stringify({ approve: true }));
    expect(approve.status).toBe(409);
    expect(((await approve.json()) as { error: { code: string } }).error.code).toBe("invalid_state");
    expect((await stack.api.raw(`/v1/runs/${id}/cancel`, "")).status).toBe(409);
    expect((await stack.api.raw(`/v1/runs/${id}/approval`, JSON.stringify({ approve: "yes" }))).status).toBe(400);
  });

  it("hides a tenant's runs from another tenant, and lists a tenant's runs newest first", async () => {
    const list = (await (await stack.api.get("/v1/runs?limit=3")).json()) as {
      runs: { id: string; createdAt: string }[];
      nextCursor: string | null;
    };
    expect(list.runs).toHaveLength(3);
    const times = list.runs.map((r) => r.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(list.nextCursor).toBeTruthy();
    const next = (await (await stack.api.get(`/v1/runs?limit=3&cursor=${list.nextCursor}`)).json()) as {
      runs: { id: string }[];
    };
    expect(next.runs.length).toBeGreaterThan(0);
    expect(next.runs.some((r) => list.runs.some((l) => l.id === r.id))).toBe(false);

    const someRun = list.runs[0]!.id;
    for (const path of [`/v1/runs/${someRun}`, `/v1/runs/${someRun}/events`]) {
      expect((await stack.apiB.get(path)).status).toBe(404);
    }
    expect((await stack.apiB.raw(`/v1/runs/${someRun}/cancel`, "")).status).toBe(404);
    const listB = (await (await stack.apiB.get("/v1/runs")).json()) as { runs: unknown[] };
    expect(listB.runs).toEqual([]);
  });
});
