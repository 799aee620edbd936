import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { RunList } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeAnthropic } from "../fakes/anthropic.ts";
import { reply } from "../fakes/server.ts";
import { Api } from "../harness/api.ts";
import { pollUntil } from "../harness/poll.ts";
import { createRun, followRun, runToEnd } from "../harness/runs.ts";
import { acceptOnly, finish, SimulatedAgent } from "../harness/simulated-agent.ts";
import { TestWorker } from "../harness/test-worker.ts";

// The RunDO's driver where it meets failure: a pool that restarts under an
// execution, a read of a run that does not exist, a run's end of retention.
// The real app and objects in workerd; a simulated agent and a fake model; no Docker.
const KEY = "runs-key-0001";
const TOKEN = "runs-agent-token-0001";
const MODEL_KEY = "sk-ant-workerd-runs";
let worker: TestWorker;
let anthropic: FakeAnthropic;
let api: Api;
const agents: SimulatedAgent[] = [];

beforeAll(async () => {
  anthropic = await FakeAnthropic.start({ apiKey: MODEL_KEY });
  worker = await TestWorker.start({
    apiKeys: { [KEY]: { tenant: "runner", pools: ["runs"] } },
    agentTokens: { [TOKEN]: "runs" },
    // About 2.6 s: a run's retention ends within the test.
    vars: { ANTHROPIC_API_KEY: MODEL_KEY, ANTHROPIC_BASE_URL: anthropic.url, EDGESWARM_RUN_RETENTION_DAYS: "0.00003" },
  });
  api = new Api(worker.url, KEY);
}, 120_000);
afterEach(() => {
  anthropic.reset();
  for (const agent of agents.splice(0)) agent.close();
});
afterAll(async () => {
  await worker?.stop();
  await anthropic?.close();
});

async function agent(id: string, answer = acceptOnly) {
  const a = await SimulatedAgent.connect({ url: worker.url, token: TOKEN, id, answer });
  agents.push(a);
  return a;
}

/** The SQLite files of the RunDO class in the test Worker's local storage. */
async function runObjectFiles(): Promise<string[]> {
  const dir = join(worker.process.dir, "state", "v3", "do", "edgeswarm-test-RunDO");
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
}

describe("a run's driver", () => {
  it("retries an execution at once when its pool restarts under it, and finishes on a new agent", async () => {
    const first = await agent("agent-1");
    anthropic.enqueue(
      reply.toolUse("run_code", { code: "print('hi')" }),
      reply.toolUse("finish", { summary: "done", code: "print('hi')", verdict: "success" }),
    );
    const id = await createRun(api, { task: "Say hi.", planner: null });
    await first.start(1);
    await worker.reset("runs"); // a deploy: the pool's object restarts under the execution
    first.close(); // and that agent goes too, so the retry must find another
    await first.closed;
    const second = await agent("agent-2");
    const start = await second.start(1);
    second.reply(finish(start));
    const { view, events } = await runToEnd(api, id);
    expect(view.status).toBe("succeeded");
    const retries = events.filter((e) => e.type === "execution.retry");
    expect(retries.map((e) => e.payload)).toMatchObject([{ reason: "pool_unavailable", delayMs: 0 }]);
    expect(events.filter((e) => e.type === "execution.finished")).toHaveLength(1);
  });

  it("answers a run id it never had 404, without storing anything for it", async () => {
    const before = await runObjectFiles();
    for (const path of ["", "/events", "/cancel"]) {
      const res = await (path === "/cancel"
        ? api.raw(`/v1/runs/run_0123456789abcdef01234567${path}`, "")
        : api.get(`/v1/runs/run_0123456789abcdef01234567${path}`));
      expect(res.status).toBe(404);
    }
    expect(await runObjectFiles()).toEqual(before);
  });

  it("deletes a run once its retention has passed: it answers 404 and leaves the list", async () => {
    anthropic.enqueue(reply.toolUse("finish", { summary: "nothing to do", code: "", verdict: "success" }));
    const id = await createRun(api, { task: "Nothing.", planner: null });
    for await (const e of followRun(api, id)) if (e.type === "run.finished") break;
    expect((await api.get(`/v1/runs/${id}`)).status).toBe(200);
    const listed = async () => ((await (await api.get("/v1/runs")).json()) as RunList).runs.map((r) => r.id);
    expect(await listed()).toContain(id);
    await pollUntil(async () => ((await api.get(`/v1/runs/${id}`)).status === 404 ? true : undefined), {
      timeoutMs: 15_000,
      what: `run ${id} to be deleted at the end of its retention`,
      intervalMs: 250,
    });
    expect(await listed()).not.toContain(id);
  });
});
