import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebhookPayload, WebhookRun } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSse, type SseMessage } from "../../client/src/sdk/sse.ts";
import { ROOT } from "../../scripts/lib/paths.ts";
import { cli } from "../client/cli-process.ts";
import { runCommand } from "../deploy/command.ts";
import { FakeModels } from "../fakes/models.ts";
import { reply } from "../fakes/server.ts";
import { Api } from "../harness/api.ts";
import { Contract } from "../harness/contract.ts";
import {
  type CurlAnswer,
  DOCS_URL,
  expectedAnswers,
  isCurlExample,
  parseSketch,
  runCurlExample,
} from "../harness/curl-examples.ts";
import { type CodeBlock, documentationBlocks } from "../harness/markdown.ts";
import { runToEnd } from "../harness/runs.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";

// Every code block of the README and of docs/ is accounted for (issue 15): the
// API calls run as written against the real stack and their answers are
// checked against the OpenAPI document and against the answer the docs sketch;
// each other block is run here, run by the suite named for it, or says why it
// cannot run on this machine. A new block that is none of these fails the suite.

/** How a block that is not a curl example is checked; keyed by `lang` and its first line. */
type Check =
  /** A request body: POSTed to this route, where it must be accepted. */
  | { post: "/v1/runs" }
  /** A team: POSTed to /v1/runs as a run's `team`. */
  | { team: true }
  /** The Worker's EDGESWARM_TENANT_LIMITS: this suite's stack runs with it. */
  | { tenantLimits: true }
  /** The CLI's config file: `edgeswarm agents ls` runs with it. */
  | { cliConfig: true }
  /** A sketch of a webhook delivery: its fields are WebhookPayload's, its run's are WebhookRun's. */
  | { webhookPayload: true }
  /** A Prometheus configuration: `promtool check config` accepts it. */
  | { promtool: true }
  /** Run by another suite, whose file says it runs `marker`'s examples. */
  | { testedBy: string; marker?: string }
  /** Shown, not run, and why. */
  | { notRun: string };

const LEDGER: Record<string, Check> = {
  "sh npm ci": {
    testedBy: "test/e2e/start.test.ts",
    marker: "Quick start",
  },
  "sh npm test             # unit + end to end (needs Docker; builds the image if missing)": {
    notRun: "the project's own scripts: .ci/run runs the typecheck, the lint and npm test on a clean clone",
  },
  'json {"url": "http://127.0.0.1:8787", "apiKey": "the key npm start printed"}': { cliConfig: true },
  'json {"kind": "swarm",': { team: true },
  "json {": { post: "/v1/runs" },
  'json {"*": {"activeRuns": 20}, "acme": {"concurrentExecutions": 8, "queuedExecutions": 200, "models": ["claude-haiku-*", "o3-mini"]}}':
    { tenantLimits: true },
  'json {"mcpServers": {"edgeswarm": {"type": "http", "url": "http://127.0.0.1:8787/mcp",': {
    testedBy: "test/e2e/mcp.test.ts",
    marker: "docs/mcp.md",
  },
  'ts import { Edgeswarm, EdgeswarmError } from "@edgeswarm/client";': { testedBy: "test/client/sdk.test.ts" },
  'ts import { Client } from "@modelcontextprotocol/sdk/client/index.js";': { testedBy: "test/e2e/mcp.test.ts" },
  'js import { createHmac, timingSafeEqual } from "node:crypto";': { testedBy: "test/e2e/webhooks.test.ts" },
  "yaml scrape_configs:": { promtool: true },
  'json {"id": "whd_9c1e…", "type": "run.succeeded", "createdAt": "2026-11-21T23:40:02.114Z", "truncated": false,': {
    webhookPayload: true,
  },
  "sh edgeswarm agents ls": { testedBy: "test/client/cli.test.ts", marker: "docs/cli.md" },
  "sh printf 'import sys\\nprint(sys.stdin.read().upper())\\n' > shout.py": {
    testedBy: "test/client/cli.test.ts",
    marker: "docs/cli.md",
  },
  'sh id=$(edgeswarm run "Print the 10th Fibonacci number." --planner none --detach)': {
    testedBy: "test/client/cli.test.ts",
    marker: "docs/cli.md",
  },
  'json {"runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]}}}': {
    testedBy: ".ci/run",
    marker: 'runtimeArgs: ["--network=none"]',
  },
  "sh openssl rand -hex 32    # a secret; give it to the tenant": {
    notRun: "it sets a secret on a deployed Worker; the webhook suite gives its Worker the same variable",
  },
  'sh claude mcp add --transport http edgeswarm http://127.0.0.1:8787/mcp --header "Authorization: Bearer $EDGESWARM_API_KEY"':
    { notRun: "Claude Code is not on this machine; the same server and header are what the MCP suite connects to" },
  "sh git clone <this repository> edgeswarm && cd edgeswarm && npm ci --omit=dev": {
    notRun: "setting up another host from a clone; test/e2e tests the agent it starts, on this host",
  },
  "console $ EDGESWARM_AGENT_TOKEN=... edgeswarm-agent doctor --url https://edgeswarm.example.com --runtime runsc": {
    testedBy: "test/deploy/doctor.test.ts",
    marker: "doctor",
  },
  "sh useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin edgeswarm": {
    notRun: "it installs a service as root on a host with systemd; test/deploy/systemd-unit.test.ts checks the unit",
  },
  "sh bash deploy/agent/build.sh edgeswarm/agent:latest          # BASE=debian:bookworm-slim where a registry is reachable":
    { testedBy: "test/deploy/agent-image.test.ts", marker: "docs/agents.md" },
};

/** The key of a block in the ledger. */
const keyOf = (block: CodeBlock) => `${block.lang} ${block.body.split("\n")[0] ?? ""}`;
const where = (block: CodeBlock) => `${block.file}:${block.line}`;
/** The blocks the ledger checks with a check of this kind. */
const checkedAs = (kind: "tenantLimits" | "webhookPayload" | "cliConfig" | "promtool") =>
  blocks.filter((b) => {
    const check = LEDGER[keyOf(b)];
    return check !== undefined && kind in check;
  });

/** A key of the tenant the tenant limits example names. */
const ACME_KEY = "docs-key-tenant-acme-01";

let blocks: CodeBlock[];
/** Blocks without a language are diagrams and layouts, not examples. */
const isExample = (block: CodeBlock) => block.lang !== "";
let models: FakeModels;
let stack: Stack;
let contract: Contract;
let tenantLimits: string;

beforeAll(async () => {
  blocks = (await documentationBlocks()).filter(isExample);
  const limits = checkedAs("tenantLimits");
  expect(limits.length, "the tenant limits example").toBe(1);
  tenantLimits = (limits[0] as CodeBlock).body;
  models = await FakeModels.start("docs-examples");
  stack = await startStack(
    "docs-examples",
    1,
    2,
    { ...models.vars, EDGESWARM_TENANT_LIMITS: tenantLimits },
    { apiKeys: { [ACME_KEY]: { tenant: "acme", pools: [TENANTS.a.pool] } } },
  );
  contract = new Contract((await (await fetch(`${stack.api.url}/v1/openapi.json`)).json()) as Record<string, unknown>);
});
afterAll(async () => {
  await stack?.stop();
  await models?.close();
});

/** What is wrong with a curl answer by the document. */
async function contractProblems(answer: CurlAnswer): Promise<string[]> {
  const sse = answer.contentType?.startsWith("text/event-stream");
  let body: unknown = answer.text;
  if (!sse) {
    try {
      body = JSON.parse(answer.text);
    } catch {
      return [`${answer.command}: the answer is not JSON: ${answer.text.slice(0, 200)}`];
    }
  }
  return contract.check({
    method: answer.method,
    path: answer.path,
    status: answer.status,
    contentType: answer.contentType,
    body: sse ? await sseMessages(answer.text) : body,
  });
}

/** The messages of an event stream that curl printed, read by the SDK's own SSE parser. */
async function sseMessages(text: string): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of parseSse(new Response(text).body as NonNullable<Response["body"]>))
    messages.push(message);
  return messages;
}

const keys = (value: unknown) => Object.keys(value as object).sort();

describe("the examples of the README and docs/", () => {
  it("are each run here, run by a named suite, or say why they cannot run", async () => {
    const unaccounted = blocks
      .filter((b) => !isCurlExample(b) && !isAnswerSketch(b) && !isErrorShape(b) && !LEDGER[keyOf(b)])
      .map((b) => `${where(b)} (${keyOf(b).slice(0, 80)})`);
    expect(unaccounted, "blocks with no check: add them to LEDGER").toEqual([]);
    const keysInDocs = new Set(blocks.map(keyOf));
    const stale = Object.keys(LEDGER).filter((key) => !keysInDocs.has(key));
    expect(stale, "LEDGER entries whose block is gone").toEqual([]);
    const tally = { run: 0, sketch: 0, testedBy: 0, notRun: [] as string[] };
    for (const b of blocks) {
      const check = LEDGER[keyOf(b)];
      if (check && "notRun" in check) tally.notRun.push(`${where(b)}: ${check.notRun}`);
      else if (check && "testedBy" in check) tally.testedBy++;
      else if (isAnswerSketch(b) || isErrorShape(b)) tally.sketch++;
      else tally.run++;
    }
    console.log(
      `docs examples: ${blocks.length} blocks; ${tally.run} run here, ${tally.sketch} answer sketches checked, ` +
        `${tally.testedBy} run by other suites, ${tally.notRun.length} not run:\n  ${tally.notRun.join("\n  ")}`,
    );
  });

  it("run by other suites: each suite exists and says it runs them", async () => {
    for (const b of blocks) {
      const check = LEDGER[keyOf(b)];
      if (!check || !("testedBy" in check)) continue;
      const text = await readFile(join(ROOT, check.testedBy), "utf8");
      const marker = check.marker ?? b.file.replace(/^README\.md$/, "README");
      expect(text.includes(marker), `${where(b)}: ${check.testedBy} does not mention ${marker}`).toBe(true);
    }
  });

  it("the curl examples run as written, and each answer is what the document and the docs' sketch say", async () => {
    // The run example's task, scripted: a one-step plan, then code that prints the 100th prime.
    models.openai.enqueue(
      reply.structured({ steps: [{ goal: "Print the 100th prime", successCriterion: "it prints 541" }] }),
    );
    models.anthropic.enqueue(
      reply.toolUse("run_code", {
        code: "def nth_prime(n):\n    found, k = 0, 1\n    while found < n:\n        k += 1\n        found += all(k % d for d in range(2, int(k ** 0.5) + 1))\n    return k\n\nprint(nth_prime(100))\n",
      }),
      reply.toolUse("finish", { summary: "prints the 100th prime", code: "print(nth_prime(100))", verdict: "success" }),
    );
    const examples = blocks.filter(isCurlExample);
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const runIds: string[] = [];
    for (const block of examples) {
      const answers = await runCurlExample(block, { url: stack.api.url, apiKey: TENANTS.a.key, timeoutMs: 60_000 });
      for (const answer of answers) {
        expect(answer.status, `${where(block)}: ${answer.command}\n${answer.text}`).toBeLessThan(300);
        expect(await contractProblems(answer), where(block)).toEqual([]);
        if (answer.path === "/v1/runs" && answer.method === "POST")
          runIds.push((JSON.parse(answer.text) as { id: string }).id);
      }
      const last = answers.at(-1) as CurlAnswer;
      // The sketch in a `# → 201 {…}` comment, or in the json block right after the example.
      for (const expected of expectedAnswers(block.body)) {
        expect(last.status, where(block)).toBe(expected.status);
        expect(keys(JSON.parse(last.text)), `${where(block)}: the sketch's fields`).toEqual(
          keys(parseSketch(expected.sketch)),
        );
      }
      const sketch = next(block);
      if (sketch && isAnswerSketch(sketch)) {
        expect(keys(JSON.parse(last.text)), `${where(sketch)}: the sketch's fields`).toEqual(
          keys(parseSketch(sketch.body)),
        );
      }
      if (last.contentType?.startsWith("text/event-stream")) {
        const events = await sseMessages(last.text);
        expect(events.at(-1)?.event, where(block)).toBe("finished");
      }
    }
    expect(runIds.length, "the run example").toBeGreaterThanOrEqual(1);
    const { view } = await runToEnd(stack.api, runIds[0] as string, 60_000);
    expect(view.status).toBe("succeeded");
    expect(view.result?.stdout).toBe("541\n");
    for (const id of runIds.slice(1)) await runToEnd(stack.api, id, 60_000);
  });

  it("the error shape is the document's answer to the mistake it names", () => {
    const shapes = blocks.filter(isErrorShape);
    expect(shapes.length).toBeGreaterThanOrEqual(1);
    for (const block of shapes) {
      const problems = contract.check({
        method: "POST",
        path: "/v1/executions",
        status: 400,
        contentType: "application/json",
        body: JSON.parse(block.body),
      });
      expect(problems, where(block)).toEqual([]);
    }
  });

  it("the request bodies and teams are accepted by POST /v1/runs", async () => {
    for (const block of blocks) {
      const check = LEDGER[keyOf(block)];
      if (!check || !("post" in check || "team" in check)) continue;
      const body =
        "team" in check ? { task: "Summarise data.csv.", team: JSON.parse(block.body) } : JSON.parse(block.body);
      const res = await stack.api.raw("/v1/runs", JSON.stringify(body));
      const answer = (await res.json()) as { id: string };
      expect(res.status, `${where(block)}: ${JSON.stringify(answer)}`).toBe(201);
      // No model reply is scripted for it: it fails at its first model call, and is left ended.
      await runToEnd(stack.api, answer.id, 60_000);
    }
  });

  it("the tenant limits: this suite's Worker runs with them, and they hold as written", async () => {
    // The stack was started with the example as EDGESWARM_TENANT_LIMITS: a Worker that refused
    // it would have answered every request above with 503 misconfigured.
    const limits = JSON.parse(tenantLimits) as Record<string, { models?: string[] }>;
    const allowed = limits.acme?.models ?? [];
    expect(allowed).toContain("claude-haiku-*");
    const acme = new Api(stack.api.url, ACME_KEY);
    const coder = (model: string) => ({ task: "Print 1.", planner: null, coder: { provider: "anthropic", model } });
    const refused = await acme.raw("/v1/runs", JSON.stringify(coder("claude-sonnet-4-6")));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("model_not_allowed");
    const accepted = await acme.raw("/v1/runs", JSON.stringify(coder("claude-haiku-4-5")));
    const { id } = (await accepted.json()) as { id: string };
    expect(accepted.status).toBe(201);
    await runToEnd(acme, id, 60_000);
  });

  it("the webhook delivery's sketch has the payload's fields", () => {
    const sketches = checkedAs("webhookPayload");
    expect(sketches.length).toBe(1);
    for (const block of sketches) {
      const sketch = parseSketch(block.body) as { run: object };
      expect(keys(sketch), where(block)).toEqual(Object.keys(WebhookPayload.shape).sort());
      const runFields = new Set(Object.keys(WebhookRun.shape));
      expect(
        keys(sketch.run).filter((k) => !runFields.has(k)),
        `${where(block)}: run fields`,
      ).toEqual([]);
    }
  });

  it("the CLI's config file is read as written", async () => {
    const block = checkedAs("cliConfig")[0];
    expect(block).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-docs-config-"));
    try {
      const file = join(dir, "config.json");
      const text = (block as CodeBlock).body
        .replace(DOCS_URL, stack.api.url)
        .replace("the key npm start printed", TENANTS.a.key);
      await writeFile(file, text);
      const { EDGESWARM_URL: _url, EDGESWARM_API_KEY: _key, ...rest } = process.env;
      const r = await cli(["agents", "ls", "--json"], { env: { ...rest, EDGESWARM_CONFIG: file } });
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain("docs-examples-1");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the Prometheus configuration passes promtool", async () => {
    const block = checkedAs("promtool")[0];
    expect(block).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-docs-prometheus-"));
    try {
      const file = join(dir, "prometheus.yml");
      await writeFile(file, (block as CodeBlock).body);
      const checked = await runCommand("promtool", ["check", "config", file], { timeoutMs: 30_000 });
      expect(checked.code, checked.text).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The block after `block` in the same file, if any. */
function next(block: CodeBlock): CodeBlock | undefined {
  const i = blocks.indexOf(block);
  const after = blocks[i + 1];
  return after && after.file === block.file ? after : undefined;
}

/** A json block right after a curl example: the sketch of that example's answer. */
function isAnswerSketch(block: CodeBlock): boolean {
  if (block.lang !== "json") return false;
  const i = blocks.indexOf(block);
  const before = blocks[i - 1];
  return (
    before !== undefined && before.file === block.file && before.section === block.section && isCurlExample(before)
  );
}

/** The error answer's shape, which the docs show once at the top of the API. */
function isErrorShape(block: CodeBlock): boolean {
  return block.lang === "json" && block.body.startsWith('{"error": ');
}
