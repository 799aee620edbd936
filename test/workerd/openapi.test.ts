import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../worker/src/http/openapi-doc.ts";
import { Api } from "../harness/api.ts";
import { TestWorker } from "../harness/test-worker.ts";

// The contract as the Worker serves it (issue 15): GET /v1/openapi.json
// without a key, the reference page at /docs under the dashboard's CSP, and
// answers that need no agent checked against the document (the harness
// checks every answer; this suite also shows that it does).
const KEY = "openapi-key-000001";
let worker: TestWorker;
let api: Api;
beforeAll(async () => {
  worker = await TestWorker.start({
    apiKeys: { [KEY]: { tenant: "tenant-a", pools: ["pool-a"] } },
    agentTokens: { "openapi-agent-token-01": "pool-a" },
  });
  api = new Api(worker.url, KEY);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
});

describe("GET /v1/openapi.json", () => {
  it("answers the document without a key, and it validates as OpenAPI 3.1", async () => {
    const res = await fetch(`${worker.url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });
});

describe("answers checked against the document", () => {
  it("finds no violation in answers that need no agent", async () => {
    const contract = worker.process.contract;
    const before = contract?.checked ?? 0;
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    expect((await new Api(worker.url, "wrong-key-0000000").get("/v1/runs")).status).toBe(401);
    expect((await api.get("/v1/runs")).status).toBe(200);
    expect((await api.get("/v1/runs?limit=x")).status).toBe(400);
    expect((await api.get("/v1/runs/run_000000000000000000000000")).status).toBe(404);
    expect((await api.get("/v1/nothing")).status).toBe(404);
    expect((await api.get("/v1/agents")).status).toBe(200);
    expect((await api.get("/v1/stats?window=15m")).status).toBe(200);
    expect((await api.raw("/v1/executions", "{not json")).status).toBe(400);
    expect((await api.raw("/v1/runs", JSON.stringify({ task: "" }))).status).toBe(400);
    await contract?.settled();
    expect(contract?.checked).toBeGreaterThanOrEqual(before + 10);
    expect(contract?.violations).toEqual([]);
  });
});

describe("GET /docs", () => {
  it("answers the reference page under the dashboard's CSP, and its script and styles", async () => {
    const res = await fetch(`${worker.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/dashboard/api-docs.js"></script>');
    // No inline script: every <script> names its file.
    expect(html.match(/<script[^>]*>/g)?.every((tag) => tag.includes("src="))).toBe(true);
    const js = await fetch(`${worker.url}/dashboard/api-docs.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("text/javascript");
    const source = await js.text();
    expect(source).toContain('fetch("/v1/openapi.json"');
    expect(source).not.toContain("innerHTML");
    expect((await fetch(`${worker.url}/dashboard/api-docs.css`)).status).toBe(200);
  });
});
