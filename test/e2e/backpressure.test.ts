/**
 * The agent at capacity refuses what it has no room for, at once, instead of
 * queuing it. The Worker's scheduler never over-leases (executions.test.ts
 * shows its 503), so to push past capacity this suite plays the Worker: the
 * fake Worker of test/harness speaks the real wire protocol to a real agent.
 */
import type { AgentHealth } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../scripts/lib/wait.ts";
import { AgentProcess } from "../harness/agent.ts";
import { agentSandboxesGone } from "../harness/docker.ts";
import { FakeWorker } from "../harness/fake-worker.ts";

const AGENT_ID = "e2e-backpressure-1";
const CAPACITY = 2;
const TOKEN = "backpressure-token-0001";

let worker: FakeWorker;
let agent: AgentProcess;
const never = new AbortController().signal;

beforeAll(async () => {
  worker = await FakeWorker.start({ token: TOKEN, heartbeatMs: 1_000 });
  agent = AgentProcess.spawn({ url: worker.url, token: TOKEN, id: AGENT_ID, capacity: CAPACITY });
  await within(worker.connected(), 30_000, "the agent to say hello");
});

afterAll(async () => {
  await agent?.stop();
  await worker?.close();
});

describe("the agent's health in its heartbeats", () => {
  it("reports its memory, event-loop delay and a full warm pool", async () => {
    const health = await within(
      new Promise<AgentHealth>((resolve) => {
        worker.onHealth = (h) => h.warm === CAPACITY && resolve(h);
      }),
      30_000,
      "a heartbeat with a full warm pool",
    );
    expect(health.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(health.rssBytes).toBeLessThan(150 * 1024 * 1024);
    expect(health.loopDelayP99Ms).toBeGreaterThanOrEqual(health.loopDelayP50Ms);
    expect(health.loopDelayMaxMs).toBeGreaterThanOrEqual(health.loopDelayP99Ms);
    expect(health.windowMs).toBeGreaterThan(500);
  });
});

describe("backpressure at the agent", () => {
  it("refuses executions beyond its capacity at once with agent_busy, and runs the ones it took", async () => {
    const held = Array.from({ length: CAPACITY }, () => worker.exec("import time\ntime.sleep(1.5)", never));
    const extra = Array.from({ length: 5 }, () => worker.exec("print('never runs')", never));

    const refused = await within(Promise.all(extra), 10_000, "the refusals");
    for (const { outcome, sentAt, receivedAt } of refused) {
      expect(outcome).toMatchObject({ status: "error", error: { code: "agent_busy" } });
      // Refused, not queued behind the held ones (which sleep 1.5 s).
      expect(receivedAt - sentAt).toBeLessThan(1_000);
    }
    const ran = await within(Promise.all(held), 30_000, "the held executions");
    for (const { outcome } of ran) expect(outcome).toMatchObject({ status: "succeeded", exitCode: 0 });

    // With room again, it takes the next one.
    const next = await within(worker.exec("print('room again')", never), 30_000, "the next execution");
    expect(next).toMatchObject({ outcome: { status: "succeeded" }, stdout: "room again\n" });
    expect(worker.violations).toEqual([]);
    await agentSandboxesGone(AGENT_ID, 15_000);
  });
});
