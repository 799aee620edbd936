import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  Edgeswarm,
  EdgeswarmApiError,
  EdgeswarmError,
  EdgeswarmUnreachableError,
  type ExecutionResult,
  type RunEvent,
} from "@edgeswarm/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports.ts";
import type { Proc } from "../../scripts/lib/process.ts";
import { within } from "../../scripts/lib/wait.ts";
import { startWrangler } from "../../scripts/lib/wrangler.ts";
import { fencedBlocks, markdownSection } from "../harness/markdown.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { REPO } from "./cli-process.ts";
import { startModels } from "./models.ts";
import { TcpProxy } from "./tcp-proxy.ts";

// The SDK against the real Worker, agent and Docker, with fake model servers.
let stack: Stack;
let models: Awaited<ReturnType<typeof startModels>>;
let swarm: Edgeswarm;

beforeAll(async () => {
  models = await startModels();
  stack = await startStack("client-sdk", 1, 2, models.vars);
  swarm = new Edgeswarm({ url: stack.worker.url, apiKey: TENANTS.a.key });
});
afterAll(async () => {
  await stack?.stop();
  await models?.close();
});

/** Follows a run until `type` arrives; the run keeps going (or stays parked) afterwards. */
async function until(id: string, type: RunEvent["type"]): Promise<RunEvent[]> {
  const seen: RunEvent[] = [];
  await within(
    (async () => {
      for await (const e of swarm.runs.events(id)) {
        seen.push(e);
        if (e.type === type) return;
      }
      throw new Error(`run ${id} ended without ${type}`);
    })(),
    45_000, // under the test's own timeout, so a stall names what it waited for
    `${type} in run ${id}`,
  );
  return seen;
}

describe("SDK: runs", () => {
  it("creates, gets, lists and waits for a run", async () => {
    const created = await swarm.runs.create({ task: "Print the 10th Fibonacci number.", planner: null });
    expect(created.id).toMatch(/^run_/);
    expect(created.links.events).toBe(`/v1/runs/${created.id}/events`);
    const run = await within(swarm.runs.wait(created.id), 60_000, "the run to end");
    expect(run).toMatchObject({ id: created.id, status: "succeeded", iterations: 1, error: null });
    expect(run.result?.stdout).toBe("55\n");
    expect((await swarm.runs.get(created.id)).status).toBe("succeeded");

    const page = await swarm.runs.list({ limit: 1 });
    expect(page.runs[0]?.id).toBe(created.id);
    const all: string[] = [];
    for await (const r of swarm.runs.all({ pageSize: 1 })) all.push(r.id);
    expect(all).toContain(created.id);
    expect(new Set(all).size).toBe(all.length);
  });

  it("approves and denies a parked run", async () => {
    const { id } = await swarm.runs.create({ task: "Print 55.", planner: null, approval: "always" });
    const seen = await until(id, "approval.requested");
    expect(seen.some((e) => e.type === "execution.finished")).toBe(false);
    expect((await swarm.runs.get(id)).status).toBe("awaiting_approval");
    const approved = await swarm.runs.approve(id, { approve: true });
    expect(approved.id).toBe(id);
    expect(await within(swarm.runs.wait(id), 60_000, "the approved run to end")).toMatchObject({
      status: "succeeded",
      result: { stdout: "55\n" },
    });

    // Denied: the coder hears "denied" and the (default) coder then finishes without running anything.
    const denied = await swarm.runs.create({ task: "Print 55.", planner: null, approval: "always" });
    await until(denied.id, "approval.requested");
    await swarm.runs.approve(denied.id, { approve: false, reason: "not today" });
    const log = await swarm.runs.eventPage(denied.id);
    expect(log.events.find((e) => e.type === "approval.decided")).toMatchObject({
      payload: { approve: false, reason: "not today" },
    });
    await within(swarm.runs.wait(denied.id), 60_000, "the denied run to end");
  });

  it("cancels a run; cancelling again is 409 invalid_state", async () => {
    const { id } = await swarm.runs.create({ task: "Print 55.", planner: null, approval: "always" });
    await until(id, "approval.requested");
    const cancelled = await swarm.runs.cancel(id);
    expect(cancelled.status).toBe("cancelled");
    expect(await swarm.runs.wait(id)).toMatchObject({ status: "cancelled", error: { reason: "cancelled" } });
    const again = await swarm.runs.cancel(id).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(EdgeswarmApiError);
    expect(again).toMatchObject({ code: "invalid_state", status: 409 });
  });

  it("resumes the event stream after the connection is cut, with no event missed or repeated", async () => {
    const proxy = await TcpProxy.start(stack.worker.port);
    try {
      const viaProxy = new Edgeswarm({
        url: proxy.url,
        apiKey: TENANTS.a.key,
        retry: { attempts: 5, baseMs: 50, maxMs: 500 },
      });
      const { id } = await swarm.runs.create({ task: "Print 55.", planner: null, approval: "always" });
      const seqs: number[] = [];
      const types: string[] = [];
      let dropped = 0;
      await within(
        (async () => {
          for await (const e of viaProxy.runs.events(id)) {
            seqs.push(e.seq);
            types.push(e.type);
            if (e.type === "approval.requested" && dropped === 0) {
              // Parked: nothing more comes until the approval, so the cut lands mid-stream.
              dropped = proxy.dropAll();
              await swarm.runs.approve(id, { approve: true });
            }
          }
        })(),
        60_000,
        "the followed run to end",
      );
      expect(dropped).toBeGreaterThan(0);
      expect(proxy.connections).toBeGreaterThanOrEqual(2);
      const log = await swarm.runs.eventPage(id);
      expect(seqs).toEqual(log.events.map((e) => e.seq));
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(types).toContain("execution.finished");
      expect(types.at(-1)).toBe("run.finished");
    } finally {
      await proxy.close();
    }
  });
});

describe("SDK: executions", () => {
  it("runs code and streams it", async () => {
    const result = await swarm.executions.run({
      language: "python",
      code: "import sys\nprint(sys.stdin.read()[::-1])",
      stdin: "olleh",
    });
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "hello\n" });

    const types: string[] = [];
    let stdout = "";
    let stderr = "";
    for await (const e of swarm.executions.stream({
      language: "python",
      code: "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)",
    })) {
      types.push(e.type);
      if (e.type === "stdout") stdout += e.data;
      if (e.type === "stderr") stderr += e.data;
      if (e.type === "finished") expect(e.result).toMatchObject({ status: "failed", exitCode: 3 });
    }
    expect(types[0]).toBe("started");
    expect(types.at(-1)).toBe("finished");
    expect(stdout).toBe("out\n");
    expect(stderr).toBe("err\n");
  });
});

describe("SDK: errors", () => {
  it("types API errors with their code and status", async () => {
    const notFound = await swarm.runs.get("run_000000000000000000000000").catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(EdgeswarmApiError);
    expect(notFound).toMatchObject({ code: "not_found", status: 404 });

    const badKey = new Edgeswarm({ url: stack.worker.url, apiKey: "not-a-real-key-000" });
    const unauthorized = await badKey.runs.list().catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ code: "unauthorized", status: 401 });
    expect(unauthorized).toBeInstanceOf(EdgeswarmError);

    const invalid = (await swarm.runs.create({ task: "" }).catch((e: unknown) => e)) as EdgeswarmApiError;
    expect(invalid).toMatchObject({ code: "invalid_request", status: 400 });
    expect(JSON.stringify(invalid.details)).toContain("task");

    const otherTenant = await swarm.runs.create({ task: "x", pool: TENANTS.b.pool }).catch((e: unknown) => e);
    expect(otherTenant).toMatchObject({ code: "forbidden", status: 403 });
  });

  it("says unreachable when nothing listens at the URL", async () => {
    const closed = new Edgeswarm({ url: `http://127.0.0.1:${await freePort()}`, apiKey: TENANTS.a.key });
    const err = await closed.agents.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeswarmUnreachableError);
    expect(err).toMatchObject({ code: "unreachable", status: null });
    expect((err as Error).message).toContain("ECONNREFUSED");
  });

  it("passes an abort through", async () => {
    const reason = new Error("gave up");
    const { id } = await swarm.runs.create({ task: "Print 55.", planner: null, approval: "always" });
    const controller = new AbortController();
    const waiting = swarm.runs.wait(id, { signal: controller.signal });
    await until(id, "approval.requested");
    controller.abort(reason);
    // Aborted mid-call, wherever that lands (often while an answer's body is read).
    await within(expect(waiting).rejects.toBe(reason), 10_000, "wait() to reject after the abort");
    await swarm.runs.cancel(id);
  });
});

describe("docs/sdk.md: the SDK example", () => {
  it("runs as written against the stack", async () => {
    const blocks = fencedBlocks(await markdownSection("docs/sdk.md", "TypeScript"), "ts");
    expect(blocks.length).toBe(1);
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-readme-sdk-"));
    try {
      // Outside the repo the package name does not resolve; point it at the source, as a bundler would.
      const entry = pathToFileURL(join(REPO, "client", "src", "index.ts")).href;
      const source = (blocks[0] ?? "").replaceAll('"@edgeswarm/client"', JSON.stringify(entry));
      const file = join(dir, "example.ts");
      await writeFile(file, source);
      const child = spawn(process.execPath, [file], {
        env: { PATH: process.env.PATH, EDGESWARM_URL: stack.worker.url, EDGESWARM_API_KEY: TENANTS.a.key },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
      });
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        out += d;
      });
      const [code] = await within(once(child, "exit"), 90_000, "the docs/sdk.md example to finish");
      expect(out).toContain("succeeded 42");
      expect(out).toMatch(/^1 run\.created$/m);
      expect(out).toMatch(/run\.finished$/m);
      expect(out).toContain("succeeded 55");
      expect(out).toContain("not_found 404");
      expect(code, out).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("SDK: inside workerd", () => {
  // A second Worker (sdk-worker/) that runs the SDK as a user's Worker would, in
  // workerd through wrangler dev, calling the real edgeswarm Worker over loopback.
  let probe: Proc;
  let probeUrl: string;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgeswarm-sdk-worker-"));
    const envFile = join(dir, "probe.env");
    await writeFile(envFile, "");
    const port = await freePort();
    probe = await startWrangler({
      port,
      envFile,
      persistTo: join(dir, "state"),
      logDir: join(dir, "logs"),
      config: join(REPO, "test", "client", "sdk-worker", "wrangler.toml"),
    });
    probeUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await probe?.stop("SIGTERM");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const viaWorker = async (apiKey: string, code: string) => {
    const res = await fetch(probeUrl, {
      method: "POST",
      body: JSON.stringify({ url: stack.worker.url, apiKey, code }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { result?: ExecutionResult; error?: { code: string; status: number } };
  };

  it("runs code and returns the checked result", async () => {
    const { result } = await viaWorker(TENANTS.a.key, "print(6 * 7)");
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "42\n" });
  });

  it("throws EdgeswarmApiError with the API's code", async () => {
    const { error } = await viaWorker("not-a-key-of-anyone", "print(1)");
    expect(error).toEqual({ code: "unauthorized", status: 401 });
  });
});
