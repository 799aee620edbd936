import { AgentList, type ErrorBody, type ExecutionResult } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../scripts/lib/wait.ts";
import { FakeAnthropic } from "../fakes/anthropic.ts";
import { reply } from "../fakes/server.ts";
import { Api } from "../harness/api.ts";
import { ContainerWatch } from "../harness/container-watch.ts";
import { anthropicToolResults, byCase, type CoderScript, createRun, runToEnd } from "../harness/runs.ts";
import { sseEvents } from "../harness/sse.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { WorkerProcess } from "../harness/worker.ts";

// A hostile tenant, trying each way it had to hurt the service, while a
// benign neighbour on the same pool runs executions and runs throughout. The
// neighbour never fails, and no agent's connection is ever replaced.
const KEY = "sk-ant-abuse-tenants-01";
const NEIGHBOUR_KEY = "test-key-neighbour-tenants";
const AGENT_IDS = ["abuse-ten-1", "abuse-ten-2"];
const scripts = new Map<string, CoderScript>();

let stack: Stack;
let anthropic: FakeAnthropic;
let neighbour: Api;
let watch: ContainerWatch;
let connectedAt: Record<string, string>;

/** The neighbour's work: an execution every moment, a run every fifth, each checked, until stopped. */
const background = {
  stop: false,
  executions: 0,
  runs: 0,
  failures: [] as string[],
  done: Promise.resolve(),
  /** Resolves when the neighbour's next run has ended (whatever its end). */
  nextRun: Promise.withResolvers<void>(),
};

async function agentsNow() {
  return AgentList.parse(await (await stack.api.get("/v1/agents")).json()).agents;
}

beforeAll(async () => {
  watch = await ContainerWatch.start(AGENT_IDS);
  anthropic = await FakeAnthropic.start({ apiKey: KEY, default: byCase(scripts) });
  stack = await startStack(
    "abuse-ten",
    2,
    4,
    { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: anthropic.url },
    { apiKeys: { [NEIGHBOUR_KEY]: { tenant: "neighbour", pools: [TENANTS.a.pool] } } },
  );
  neighbour = new Api(stack.worker.url, NEIGHBOUR_KEY);
  connectedAt = Object.fromEntries((await agentsNow()).map((a) => [a.id, a.connectedAt]));
  expect(Object.keys(connectedAt).sort()).toEqual(AGENT_IDS);

  scripts.set("neighbour", (turn) =>
    turn === 0
      ? reply.toolUse("run_code", { code: "print('neighbour run')" })
      : reply.toolUse("finish", { summary: "done", code: "", verdict: "success" }),
  );
  background.done = (async () => {
    for (let i = 0; i < 10_000 && !background.stop; i++) {
      try {
        if (i % 5 === 4) {
          const id = await within(
            createRun(neighbour, { task: "[case:neighbour] print", planner: null }),
            30_000,
            "the neighbour's run to be created",
          );
          const { view } = await runToEnd(neighbour, id, 60_000);
          if (view.status !== "succeeded") background.failures.push(`run ${id}: ${JSON.stringify(view.error)}`);
          else background.runs++;
          background.nextRun.resolve();
          background.nextRun = Promise.withResolvers<void>();
        } else {
          const result = await within(
            neighbour.execute({ language: "python", code: `print('n', ${i})` }),
            60_000,
            `the neighbour's execution ${i}`,
          );
          if (result.status !== "succeeded" || result.stdout !== `n ${i}\n`) {
            background.failures.push(`execution ${i}: ${JSON.stringify(result).slice(0, 300)}`);
          } else background.executions++;
        }
      } catch (err) {
        background.failures.push(`${i}: ${(err as Error).message}`);
      }
    }
  })();
}, 120_000);

afterAll(async () => {
  background.stop = true;
  await background.done;
  if (background.failures.length) console.error(`the neighbour's failures after the last test: ${background.failures}`);
  watch?.close();
  await stack?.stop();
  await anthropic?.close();
});

describe("a hostile tenant", () => {
  it("writes a file of 8 MiB of \\x01: it comes back whole (as base64), and its agent stays connected", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: "open('ones.bin', 'wb').write(b'\\x01' * (8 * 1024 * 1024))",
    });
    expect(result.status).toBe("succeeded");
    expect(result.files).toHaveLength(1);
    const [file] = result.files;
    expect(file).toMatchObject({ path: "ones.bin", encoding: "base64" });
    const bytes = Buffer.from(file?.content ?? "", "base64");
    expect(bytes.length).toBe(8 * 1024 * 1024);
    expect(bytes.every((b) => b === 1)).toBe(true);
  });

  it("streams 16 MiB outputs to three SSE callers that never read: each is cancelled as too slow", async () => {
    const callers = await Promise.all(
      [0, 1, 2].map(async () => {
        const res = await fetch(`${stack.worker.url}/v1/executions`, {
          method: "POST",
          headers: stack.api.headers({ Accept: "text/event-stream" }),
          body: JSON.stringify({
            language: "python",
            // \x01 takes six characters in the events' JSON: the 96 MiB they make are more than
            // the sockets and proxies between the Worker and this caller can hold unread.
            code: "import sys\nsys.stdout.write('\\x01' * (16 * 1024 * 1024))",
            limits: { outputBytes: 16 * 1024 * 1024, timeoutMs: 120_000 },
          }),
        });
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        const decoder = new TextDecoder();
        let text = "";
        // Read only as far as the started event, then read nothing more.
        while (!/event: started\n/.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error("the stream ended before started");
          text += decoder.decode(value, { stream: true });
        }
        const id = /"id":"(ex_[0-9a-f]{24})"/.exec(text)?.[1] ?? "";
        return { reader, decoder, text, id };
      }),
    );
    // The pool gives up on them (CLIENT_STALL_MS), and their sandboxes go.
    await Promise.all(callers.map((c) => watch.executionGone(c.id, 60_000)));
    for (const caller of callers) {
      let text = caller.text;
      for (;;) {
        const { value, done } = await caller.reader.read();
        if (done) break;
        text += caller.decoder.decode(value, { stream: true });
      }
      const finished = (await sseEvents(text)).find((e) => e.event === "finished");
      expect(JSON.parse(finished?.data ?? "{}")).toMatchObject({
        result: { status: "cancelled", error: { code: "client_too_slow" } },
      });
      expect(text.length).toBeLessThan(6 * 16 * 1024 * 1024);
    }
  }, 120_000);

  it("finds no secret in the answer of a Worker whose configuration it breaks", async () => {
    const secrets = {
      apiKey: "sk-live-operator-key-7731",
      otherKey: "sk-live-second-key-5510",
      token: "agent-token-secret-9920",
      webhook: "whsec-tenant-secret-4418-xyz",
    };
    const broken = await WorkerProcess.start({
      apiKeys: {
        [secrets.apiKey]: { tenant: "acme", pools: ["default"] },
        [secrets.otherKey]: { tenant: "ac me", pools: ["default"] }, // one typo in a tenant name
      },
      agentTokens: { [secrets.token]: "default" },
      vars: { EDGESWARM_WEBHOOK_SECRETS: JSON.stringify({ acme: secrets.webhook }) },
    });
    try {
      for (const bearer of [secrets.apiKey, "anything", ""]) {
        const res = await new Api(broken.url, bearer || undefined).get("/v1/agents");
        const text = await res.text();
        expect(res.status).toBe(503);
        expect((JSON.parse(text) as ErrorBody).error.code).toBe("misconfigured");
        expect(text).toContain("EDGESWARM_API_KEYS: entry 2 of 2");
        for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);
      }
      // The contract holds no configuration, so it is still served, and holds no secret either.
      const contract = await fetch(`${broken.url}/v1/openapi.json`);
      expect(contract.status).toBe(200);
      const doc = await contract.text();
      for (const secret of Object.values(secrets)) expect(doc).not.toContain(secret);
    } finally {
      await broken.stop();
    }
  });

  it("cannot take a run's workspace past 100 files: the call is rejected, and the run goes on", async () => {
    scripts.set("files", (turn, request) => {
      if (turn === 0) {
        return reply.toolUse("run_code", { code: "print('one more')", files: [{ path: "extra.txt", content: "x" }] });
      }
      const results = anthropicToolResults(request.body).join("\n");
      return reply.toolUse("finish", { summary: results.slice(0, 500), code: "", verdict: "success" });
    });
    const files = Array.from({ length: 100 }, (_, i) => ({ path: `data/f${i}.txt`, content: String(i) }));
    const id = await createRun(stack.api, { task: "[case:files] one more", planner: null, files });
    const { view, events } = await runToEnd(stack.api, id);
    const rejected = events.find((e) => e.type === "tool.rejected");
    expect(rejected?.payload).toMatchObject({ name: "run_code" });
    expect(JSON.stringify(rejected?.payload)).toContain("a run keeps at most 100");
    expect(view.status).toBe("succeeded");
    expect(view.result?.summary).toContain("a run keeps at most 100");
  });

  it("is refused at once, 400, for files that cannot all be written", async () => {
    for (const files of [
      [
        { path: "a", content: "1" },
        { path: "a/b", content: "2" },
      ],
      [{ path: `${"n".repeat(256)}`, content: "" }],
      Array.from({ length: 101 }, (_, i) => ({ path: `f${i}`, content: "" })),
    ]) {
      for (const [path, body] of [
        ["/v1/executions", { language: "python", code: "print(1)", files }],
        ["/v1/runs", { task: "t", planner: null, files }],
      ] as const) {
        const res = await stack.api.raw(path, JSON.stringify(body));
        expect(res.status, `${path} with ${files.length} files`).toBe(400);
        expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_request");
      }
    }
  });

  it("dies of a realtime signal: the result names it, and the files it wrote come back", async () => {
    const result: ExecutionResult = await stack.api.execute({
      language: "python",
      code: "import os, signal\nopen('kept.txt', 'w').write('kept')\nos.kill(os.getpid(), signal.SIGRTMIN + 6)",
    });
    expect(result).toMatchObject({ status: "failed", exitCode: null, signal: "SIGRTMIN+6" });
    expect(result.files).toEqual([{ path: "kept.txt", content: "kept", encoding: "utf8" }]);
  });

  it("left the neighbour's work and every agent's connection untouched", async () => {
    // One more of the neighbour's runs beside the cases above, then look.
    await within(background.nextRun.promise, 45_000, "the neighbour's next run to end");
    expect(background.failures).toEqual([]);
    expect(background.executions).toBeGreaterThan(5);
    const now = Object.fromEntries((await agentsNow()).map((a) => [a.id, a.connectedAt]));
    expect(now).toEqual(connectedAt);
  }, 60_000);
});
