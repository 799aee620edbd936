import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { AgentList, ExecutionResult, RunView } from "@edgeswarm/shared";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../scripts/lib/wait.ts";
import { REPO } from "../client/cli-process.ts";
import type { FakeAnthropic } from "../fakes/anthropic.ts";
import { FakeModels } from "../fakes/models.ts";
import { reply } from "../fakes/server.ts";
import { fencedBlocks, markdownFile, markdownSection } from "../harness/markdown.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";

// The MCP server at /mcp, through the SDK's own client over Streamable HTTP,
// against the real Worker, a real agent and Docker, and the fake coder.
let stack: Stack;
let models: FakeModels;
let anthropic: FakeAnthropic;
const clients: Client[] = [];

/** An MCP client connected to the stack's /mcp with `key` as its Bearer token (none: no header). */
async function connect(key: string | undefined): Promise<Client> {
  const client = new Client({ name: "edgeswarm-e2e", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL("/mcp", stack.worker.url), {
    requestInit: key ? { headers: { Authorization: `Bearer ${key}` } } : {},
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** A tool's structured answer; fails, showing the tool's text, when the call was a tool error. */
function value<T>(result: CallToolResult): T {
  if (result.isError) throw new Error(`the tool answered an error: ${JSON.stringify(result.content)}`);
  // The text content is the same value, for clients that read only text.
  const text = result.content.find((c) => c.type === "text");
  expect(text?.type === "text" && JSON.parse(text.text)).toEqual(result.structuredContent);
  return result.structuredContent as T;
}

/** A tool error's `{error: {code, message}}`, the API's error body. */
function toolError(result: CallToolResult): { code: string; message: string } {
  expect(result.isError).toBe(true);
  const text = result.content.find((c) => c.type === "text");
  return (JSON.parse(text?.type === "text" ? text.text : "{}") as { error: { code: string; message: string } }).error;
}

beforeAll(async () => {
  models = await FakeModels.start("e2e-mcp");
  ({ anthropic } = models);
  stack = await startStack("e2e-mcp", 1, 2, models.vars);
});
afterEach(() => {
  models?.reset();
});
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await stack?.stop();
  await models?.close();
});

describe("MCP server", () => {
  it("lists its tools, each with the input schema the API's zod schemas make", async () => {
    const client = await connect(TENANTS.a.key);
    expect(client.getServerVersion()?.name).toBe("edgeswarm");
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["run_code", "start_run", "get_run", "wait_run", "list_agents"]);
    for (const tool of tools) {
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      expect(tool.description, tool.name).toBeTruthy();
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    const runCode = byName.get("run_code")?.inputSchema;
    expect(Object.keys(runCode?.properties ?? {})).toEqual(
      expect.arrayContaining(["language", "code", "files", "stdin", "limits"]),
    );
    expect(runCode?.required).toEqual(expect.arrayContaining(["language", "code"]));
    // The API's bounds, from shared/'s schemas: a limit's maximum, the languages.
    expect(JSON.stringify(runCode?.properties?.limits)).toContain('"maximum":300000');
    expect(JSON.stringify(runCode?.properties?.language)).toContain('"python"');
    expect(byName.get("start_run")?.inputSchema.required).toEqual(["task"]);
    expect(byName.get("wait_run")?.inputSchema.required).toEqual(["id"]);
  });

  it("run_code runs a program with stdin and a file, and answers its result", async () => {
    const client = await connect(TENANTS.a.key);
    const result = value<ExecutionResult>(
      await call(client, "run_code", {
        language: "python",
        code: "import sys\nprint(sys.stdin.read().upper(), open('data.txt').read()[::-1])",
        stdin: "hi",
        files: [{ path: "data.txt", content: "olleh" }],
        limits: { timeoutMs: 10_000 },
      }),
    );
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "HI hello\n", stderr: "" });
    expect(result.agentId).toBe("e2e-mcp-1");

    const failed = value<ExecutionResult>(
      await call(client, "run_code", { language: "python", code: "raise SystemExit(3)" }),
    );
    expect(failed).toMatchObject({ status: "failed", exitCode: 3 });
  });

  it("refuses bad arguments as a tool error naming the field", async () => {
    const client = await connect(TENANTS.a.key);
    const tooLong = await call(client, "run_code", { language: "python", code: "1", limits: { timeoutMs: 999_999 } });
    expect(tooLong.isError).toBe(true);
    expect(JSON.stringify(tooLong.content)).toContain("timeoutMs");
    // A refinement the picked fields do not carry is checked by the API's own schema: the code is the API's.
    const twice = await call(client, "run_code", {
      language: "python",
      code: "1",
      files: [
        { path: "a.txt", content: "1" },
        { path: "a.txt", content: "2" },
      ],
    });
    expect(toolError(twice)).toMatchObject({ code: "invalid_request", message: expect.stringContaining("a.txt") });
    expect(toolError(await call(client, "run_code", { language: "python", code: "1", pool: "pool-b" }))).toMatchObject({
      code: "forbidden",
    });
  });

  it("start_run starts a run, wait_run waits for the fake coder to finish it, get_run reads it", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "print(sum(range(10)))" }),
      reply.toolUse("finish", { summary: "prints 45", code: "print(sum(range(10)))", verdict: "success" }),
    );
    const client = await connect(TENANTS.a.key);
    const started = value<Pick<RunView, "id" | "status" | "links">>(
      await call(client, "start_run", { task: "Print the sum of 0 to 9.", planner: null, maxIterations: 3 }),
    );
    expect(started.id).toMatch(/^run_[0-9a-f]{24}$/);
    expect(started.links.self).toBe(`/v1/runs/${started.id}`);

    const ended = value<RunView>(await call(client, "wait_run", { id: started.id, timeoutMs: 45_000 }));
    expect(ended).toMatchObject({ id: started.id, status: "succeeded", error: null, iterations: 1 });
    expect(ended.result).toMatchObject({ stdout: "45\n", summary: "prints 45" });
    expect(value<RunView>(await call(client, "get_run", { id: started.id }))).toEqual(ended);
    expect(anthropic.violations).toEqual([]);

    // Another tenant's key does not find it, exactly as GET /v1/runs/:id answers it.
    const other = await connect(TENANTS.b.key);
    expect(toolError(await call(other, "get_run", { id: started.id }))).toMatchObject({ code: "not_found" });
    expect(toolError(await call(other, "wait_run", { id: started.id, timeoutMs: 0 }))).toMatchObject({
      code: "not_found",
    });
  });

  it("wait_run answers the current view at its timeout, and the ended one when called again", async () => {
    const gate = Promise.withResolvers<void>();
    anthropic.enqueue(
      async () => {
        await gate.promise; // the coder thinks until the test lets it answer
        return reply.toolUse("run_code", { language: "python", code: "print('late')" });
      },
      reply.toolUse("finish", { summary: "late", code: "print('late')", verdict: "success" }),
    );
    const client = await connect(TENANTS.a.key);
    const { id } = value<RunView>(await call(client, "start_run", { task: "Print late.", planner: null }));
    try {
      const started = Date.now();
      const early = value<RunView>(await call(client, "wait_run", { id, timeoutMs: 1_500 }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
      expect(early.status).toBe("running");
    } finally {
      gate.resolve();
    }
    const ended = value<RunView>(await call(client, "wait_run", { id, timeoutMs: 45_000 }));
    expect(ended).toMatchObject({ status: "succeeded", result: { stdout: "late\n" } });
  });

  it("list_agents lists the tenant's own agents only", async () => {
    const mine = value<AgentList>(await call(await connect(TENANTS.a.key), "list_agents"));
    expect(mine.agents.map((a) => a.id)).toEqual(["e2e-mcp-1"]);
    const theirs = value<AgentList>(await call(await connect(TENANTS.b.key), "list_agents"));
    expect(theirs.agents).toEqual([]);
  });

  it("refuses a wrong or missing API key with the API's 401", async () => {
    for (const key of ["test-key-wrong-000000", undefined]) {
      const refused = await connect(key).then(
        () => null,
        (err: unknown) => err,
      );
      expect(refused, `key ${key}`).toBeInstanceOf(StreamableHTTPError);
      expect((refused as StreamableHTTPError).code).toBe(401);
      expect((refused as Error).message).toContain("unauthorized");
    }
    // What the client saw, on the wire: the API's error body, and the scheme to use.
    const res = await fetch(`${stack.worker.url}/mcp`, {
      method: "POST",
      headers: {
        Authorization: "Bearer test-key-wrong-000000",
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "invalid API key" } });
  });

  it("answers GET with 405: the server is stateless and sends nothing unasked", async () => {
    const res = await fetch(`${stack.worker.url}/mcp`, {
      headers: { Authorization: `Bearer ${TENANTS.a.key}`, Accept: "text/event-stream" },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("POST");
  });
});

describe("MCP: the README's and docs/mcp.md's examples", () => {
  it("the client configuration connects as written, with the stack's URL and a real key", async () => {
    const blocks = fencedBlocks(await markdownSection("README.md", "MCP"), "json");
    expect(blocks.length).toBe(1);
    const docs = fencedBlocks(await markdownFile("docs/mcp.md"), "json");
    expect(docs).toContain(blocks[0]); // one configuration, shown in both
    const config = JSON.parse(blocks[0] ?? "") as {
      mcpServers: { edgeswarm: { type: string; url: string; headers: Record<string, string> } };
    };
    const { type, url, headers } = config.mcpServers.edgeswarm;
    expect(type).toBe("http");
    expect(headers.Authorization).toBe("Bearer <API key>");
    const client = new Client({ name: "readme", version: "1.0.0" });
    clients.push(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(new URL(url).pathname, stack.worker.url), {
        requestInit: { headers: { Authorization: (headers.Authorization ?? "").replace("<API key>", TENANTS.a.key) } },
      }),
    );
    expect((await client.listTools()).tools.length).toBe(5);
  });

  it("the SDK client example in docs/mcp.md runs as written against the stack", async () => {
    const blocks = fencedBlocks(await markdownFile("docs/mcp.md"), "ts");
    expect(blocks.length).toBe(1);
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-docs-mcp-"));
    try {
      // Outside the repo the package does not resolve: point each import at its file, and the URL at the stack.
      const sdk = join(REPO, "node_modules", "@modelcontextprotocol", "sdk", "dist", "esm");
      const source = (blocks[0] ?? "")
        .replace(/"@modelcontextprotocol\/sdk\/([^"]+)"/g, (_, path: string) =>
          JSON.stringify(pathToFileURL(join(sdk, path)).href),
        )
        .replaceAll("http://127.0.0.1:8787", stack.worker.url);
      const file = join(dir, "example.ts");
      await writeFile(file, source);
      const child = spawn(process.execPath, [file], {
        env: { PATH: process.env.PATH, EDGESWARM_API_KEY: TENANTS.a.key },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      for (const stream of [child.stdout, child.stderr]) {
        stream.setEncoding("utf8").on("data", (d: string) => {
          out += d;
        });
      }
      const [code] = await within(once(child, "exit"), 60_000, "the docs/mcp.md example to finish");
      expect(out).toContain("status: 'succeeded'");
      expect(out).toContain("stdout: '42\\n'");
      expect(code, out).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
