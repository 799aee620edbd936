import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/lib/paths.ts";
import { freePort } from "../../scripts/lib/ports.ts";
import { Proc } from "../../scripts/lib/process.ts";
import { waitForLine } from "../../scripts/lib/wait.ts";
import { Api } from "../harness/api.ts";
import { containersWith } from "../harness/docker.ts";
import { OtlpReceiver } from "../harness/otlp.ts";

// The README's Quick start, for real: `npm start` runs the script below.
let proc: Proc | undefined;
let home = "";
afterAll(async () => {
  await proc?.stop("SIGKILL");
  if (home) await rm(home, { recursive: true, force: true });
});

describe("npm start", () => {
  it("starts the Worker and two agents, runs a smoke execution, and stops everything on Ctrl-C", async () => {
    const port = await freePort();
    home = await mkdtemp(join(tmpdir(), "edgeswarm-start-"));
    const key = "start-test-key-0001";
    proc = new Proc(
      process.execPath,
      ["scripts/start.mjs"],
      { ...process.env, PORT: String(port), EDGESWARM_API_KEY: key, EDGESWARM_AGENTS: "2", EDGESWARM_HOME: home },
      ROOT,
    );
    await waitForLine(proc.log, /edgeswarm is running/, 120_000, "npm start to say it is running");
    const out = proc.log.all.join("\n");
    expect(out).toMatch(/smoke execution succeeded: hello from a sandbox, Python 3\.\d+/);
    expect(out).toContain(`URL       http://127.0.0.1:${port}`);
    expect(out).toContain(`API key   ${key}`);

    const api = new Api(`http://127.0.0.1:${port}`, key);
    const agents = (await (await api.get("/v1/agents")).json()) as { agents: { id: string }[] };
    expect(agents.agents.map((a) => a.id)).toEqual([`local-${port}-1`, `local-${port}-2`]);
    expect((await api.execute({ language: "python", code: "print(6 * 7)" })).stdout).toBe("42\n");

    // Ctrl-C reaches the start script (its children run in their own groups).
    proc.child.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    for (const id of [`local-${port}-1`, `local-${port}-2`]) {
      expect(await containersWith("edgeswarm.agent", id)).toEqual([]);
    }
  });

  it("configures the Worker like production from its environment: keys, the agents' token, quotas, tracing", async () => {
    const port = await freePort();
    const receiver = await OtlpReceiver.start();
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-start-"));
    const key = "start-test-operator-key-0002";
    const token = "start-test-agent-token-0002";
    const configured = new Proc(
      process.execPath,
      ["scripts/start.mjs"],
      {
        ...process.env,
        PORT: String(port),
        EDGESWARM_HOME: dir,
        EDGESWARM_API_KEY: "this-key-is-replaced",
        EDGESWARM_API_KEYS: JSON.stringify({ [key]: { tenant: "ops", pools: ["edge"] } }),
        EDGESWARM_AGENT_TOKENS: JSON.stringify({ [token]: { pool: "edge", maxCapacity: 2 } }),
        EDGESWARM_AGENT_TOKEN: token,
        EDGESWARM_TENANT_LIMITS: JSON.stringify({ ops: { concurrentExecutions: 1 } }),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      },
      ROOT,
    );
    try {
      await waitForLine(configured.log, /edgeswarm is running/, 120_000, "npm start to say it is running");
      const out = configured.log.all.join("\n");
      expect(out).toContain(`API key   ${key}   (from EDGESWARM_API_KEYS: the first key for pool 'edge')`);
      expect(out).toContain("EDGESWARM_TENANT_LIMITS from your environment");
      expect(out).toContain("EDGESWARM_AGENT_TOKENS from your environment");
      expect(out).not.toContain(token);

      const api = new Api(`http://127.0.0.1:${port}`, key);
      const agents = (await (await api.get("/v1/agents")).json()) as { agents: { pool: string; capacity: number }[] };
      expect(agents.agents).toMatchObject([{ pool: "edge", capacity: 2 }]); // its 4, cut to the token's most
      expect((await new Api(`http://127.0.0.1:${port}`, "this-key-is-replaced").get("/v1/agents")).status).toBe(401);
      // The tenant's quota holds: one at a time, and a second that may not wait is refused.
      const holding = api.stream({ language: "python", code: "import time\ntime.sleep(2)" });
      expect((await holding.next()).value).toMatchObject({ type: "started" });
      const second = await api.raw(
        "/v1/executions",
        JSON.stringify({ language: "python", code: "print(1)", queueTimeoutMs: 0 }),
      );
      expect(second.status).toBe(429);
      let last: unknown;
      for await (const event of holding) last = event;
      expect(last).toMatchObject({ type: "finished", result: { status: "succeeded" } });
      // The OTEL_* variables reached the Worker and its agent: both send the execution's spans.
      const traceId = (last as { result: { traceId: string } }).result.traceId;
      const spans = await receiver.waitForTrace(traceId, (s) => s.some((x) => x.name === "container.remove"));
      expect(new Set(spans.map((s) => s.service))).toEqual(new Set(["edgeswarm-worker", "edgeswarm-agent"]));
    } finally {
      configured.child.kill("SIGINT");
      await configured.exited;
      await rm(dir, { recursive: true, force: true });
      await receiver.close();
    }
  });

  it("says clearly when Docker is unreachable, without a stack trace", async () => {
    const failing = new Proc(
      process.execPath,
      ["scripts/start.mjs"],
      { ...process.env, DOCKER_HOST: "unix:///nonexistent/docker.sock", PORT: String(await freePort()) },
      ROOT,
    );
    expect(await failing.exited).toBe(1);
    const out = failing.log.all.join("\n");
    expect(out).toContain("edgeswarm: cannot reach the Docker engine");
    expect(out).toContain("Start Docker");
    expect(out).not.toMatch(/\n\s+at /);
  });
});
