import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "../harness/api.ts";
import { TestWorker } from "../harness/test-worker.ts";

// The API's refusals of bad input: answered by the real app in workerd
// before anything reaches a pool, so no agent and no Docker are needed.
const KEY = "validation-key-0001";
let worker: TestWorker;
let api: Api;
beforeAll(async () => {
  // pool-a's operator lowered two maxima; see worker/src/pool-limits.ts.
  worker = await TestWorker.start({
    apiKeys: { [KEY]: { tenant: "tenant-a", pools: ["pool-a"] } },
    agentTokens: { "validation-agent-token-01": "pool-a" },
    vars: { EDGESWARM_POOL_LIMITS: JSON.stringify({ "pool-a": { memoryMb: 128, timeoutMs: 5_000 } }) },
  });
  api = new Api(worker.url, KEY);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
});

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body;
}

describe("bad input to POST /v1/executions", () => {
  const post = (body: string) => api.raw("/v1/executions", body);

  it("answers 400 invalid_json to malformed JSON", async () => {
    await expectError(await post("{not json"), 400, "invalid_json");
    await expectError(await post(""), 400, "invalid_json");
  });

  it("answers 400 invalid_request to wrong types, naming the field", async () => {
    const body = await expectError(
      await post(JSON.stringify({ language: "python", code: 42 })),
      400,
      "invalid_request",
    );
    expect(JSON.stringify(body)).toContain('"path":"code"');
    await expectError(await post(JSON.stringify([1, 2])), 400, "invalid_request");
    await expectError(
      await post(JSON.stringify({ language: "python", code: "", surprise: true })),
      400,
      "invalid_request",
    );
  });

  it("answers 400 to an unknown language", async () => {
    const body = await expectError(
      await post(JSON.stringify({ language: "cobol", code: "x" })),
      400,
      "invalid_request",
    );
    expect(JSON.stringify(body)).toContain('"path":"language"');
  });

  it("holds each request to its pool's own maxima", async () => {
    const body = await expectError(
      await post(JSON.stringify({ language: "python", code: "print(1)", limits: { memoryMb: 256, timeoutMs: 6_000 } })),
      400,
      "invalid_request",
    );
    expect(body.error.message).toBe(
      "timeoutMs must be at most 5000 in pool 'pool-a'; memoryMb must be at most 128 in pool 'pool-a'",
    );
    const runs = await expectError(
      await api.raw("/v1/runs", JSON.stringify({ task: "t", limits: { memoryMb: 512 } })),
      400,
      "invalid_request",
    );
    expect(runs.error.message).toBe("memoryMb must be at most 128 in pool 'pool-a'");
  });

  it("answers 400 to limits above the maxima, naming the limit", async () => {
    for (const limits of [{ timeoutMs: 10_000_000 }, { memoryMb: 1_000_000 }, { pids: 0 }, { outputBytes: 1e12 }]) {
      const body = await expectError(
        await post(JSON.stringify({ language: "python", code: "print(1)", limits })),
        400,
        "invalid_request",
      );
      expect(JSON.stringify(body)).toContain(`limits.${Object.keys(limits)[0]}`);
    }
  });

  it("answers 400 to a file path that escapes the workspace", async () => {
    for (const path of ["../etc/passwd", "/abs", "a/../../b", "a//b"]) {
      await expectError(
        await post(JSON.stringify({ language: "python", code: "", files: [{ path, content: "x" }] })),
        400,
        "invalid_request",
      );
    }
  });

  it("answers 413 to an oversized body", async () => {
    const huge = JSON.stringify({ language: "python", code: "#".repeat(17 * 1024 * 1024) });
    await expectError(await post(huge), 413, "payload_too_large");
  });

  it("answers 404 with the error body to an unknown route", async () => {
    await expectError(await api.get("/v1/nothing-here"), 404, "not_found");
  });
});

describe("bad input elsewhere", () => {
  it("answers 400 to files that cannot all be written, for executions and runs", async () => {
    const files = [
      { path: "a", content: "1" },
      { path: "a/b", content: "2" },
    ];
    for (const [path, body] of [
      ["/v1/executions", { language: "python", code: "x", files }],
      ["/v1/runs", { task: "t", planner: null, files }],
    ] as const) {
      const refused = await expectError(await api.raw(path, JSON.stringify(body)), 400, "invalid_request");
      expect(refused.error.message).toContain("'a' is a file, so 'a/b' cannot be inside it");
    }
  });

  it("answers 400 to queueTimeoutMs out of range, naming the bound", async () => {
    const body = await expectError(
      await api.raw("/v1/executions", JSON.stringify({ language: "python", code: "x", queueTimeoutMs: 600_001 })),
      400,
      "invalid_request",
    );
    expect(body.error.message).toContain("queueTimeoutMs must be at most 600000");
    await expectError(
      await api.raw("/v1/runs", JSON.stringify({ task: "t", limits: { queueTimeoutMs: -1 } })),
      400,
      "invalid_request",
    );
  });

  it("answers the agents' route 401 without a valid agent token (an API key is none), and 426 without an upgrade", async () => {
    await expectError(await api.get("/v1/agents/connect"), 401, "unauthorized");
    await expectError(await new Api(worker.url, "no-such-agent-token").get("/v1/agents/connect"), 401, "unauthorized");
    const agent = new Api(worker.url, "validation-agent-token-01");
    await expectError(await agent.get("/v1/agents/connect"), 426, "upgrade_required");
  });
});
