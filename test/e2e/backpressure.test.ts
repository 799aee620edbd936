/**
 * The agent at capacity refuses what it has no room for, at once, instead of
 * queuing it. The Worker's scheduler never over-leases (executions.test.ts
 * shows its 503), so to push past capacity this suite is the Worker: a WebSocket
 * server on loopback speaking the real wire protocol to a real agent process.
 */
import type { AddressInfo } from "node:net";
import {
  AgentFrame,
  type AgentHealth,
  type ExecStart,
  type ExecutionOutcome,
  newExecutionId,
  PROTOCOL_VERSION,
  parseFrame,
  resolveLimits,
  type WorkerFrame,
} from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { within } from "../../scripts/lib/wait.ts";
import { AgentProcess } from "../harness/agent.ts";
import { agentSandboxesGone } from "../harness/docker.ts";

const AGENT_ID = "e2e-backpressure-1";
const CAPACITY = 2;

let server: WebSocketServer;
let agent: AgentProcess;
let socket: WebSocket;
const finished = new Map<string, { outcome: ExecutionOutcome; at: number }>();
let onHealth: (health: AgentHealth) => void = () => {};
const waiters = new Map<string, () => void>();

beforeAll(async () => {
  server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const connected = new Promise<WebSocket>((resolve) => {
    server.on("connection", (ws) => {
      ws.on("message", (data) => {
        const parsed = parseFrame(AgentFrame, data.toString());
        if (!parsed.ok) throw new Error(`the agent sent a bad frame: ${parsed.message}`);
        const frame = parsed.frame;
        if (frame.type === "agent.hello") {
          send(ws, { type: "worker.welcome", protocolVersion: PROTOCOL_VERSION, pool: "pool-a", heartbeatMs: 1_000 });
          resolve(ws);
        } else if (frame.type === "agent.heartbeat" && frame.health) {
          onHealth(frame.health);
        } else if (frame.type === "exec.finished") {
          finished.set(frame.executionId, { outcome: frame.outcome, at: performance.now() });
          waiters.get(frame.executionId)?.();
        }
      });
    });
  });
  const { port } = server.address() as AddressInfo;
  agent = AgentProcess.spawn({ url: `http://127.0.0.1:${port}`, token: "any", id: AGENT_ID, capacity: CAPACITY });
  socket = await within(connected, 30_000, "the agent to say hello");
});

afterAll(async () => {
  await agent?.stop();
  server?.close();
});

function send(ws: WebSocket, frame: WorkerFrame): void {
  ws.send(JSON.stringify(frame));
}

function start(code: string): { id: string; done: Promise<{ outcome: ExecutionOutcome; at: number }> } {
  const id = newExecutionId();
  const done = new Promise<{ outcome: ExecutionOutcome; at: number }>((resolve) => {
    waiters.set(id, () => resolve(finished.get(id)!));
  });
  const frame: ExecStart = {
    type: "exec.start",
    executionId: id,
    language: "python",
    code,
    files: [],
    args: [],
    env: {},
    limits: resolveLimits({ timeoutMs: 20_000 }),
  };
  send(socket, frame);
  return { id, done };
}

describe("the agent's health in its heartbeats", () => {
  it("reports its memory, event-loop delay and a full warm pool", async () => {
    const health = await within(
      new Promise<AgentHealth>((resolve) => {
        onHealth = (h) => h.warm === CAPACITY && resolve(h);
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
    const held = Array.from({ length: CAPACITY }, () => start("import time\ntime.sleep(1.5)"));
    const sentAt = performance.now();
    const extra = Array.from({ length: 5 }, () => start("print('never runs')"));

    const refused = await within(Promise.all(extra.map((e) => e.done)), 10_000, "the refusals");
    for (const { outcome, at } of refused) {
      expect(outcome).toMatchObject({ status: "error", error: { code: "agent_busy" } });
      // Refused, not queued behind the held ones (which sleep 1.5 s).
      expect(at - sentAt).toBeLessThan(1_000);
    }
    const ran = await within(Promise.all(held.map((h) => h.done)), 30_000, "the held executions");
    for (const { outcome } of ran) expect(outcome).toMatchObject({ status: "succeeded", exitCode: 0 });

    // With room again, it takes the next one.
    const next = await within(start("print('room again')").done, 30_000, "the next execution");
    expect(next.outcome).toMatchObject({ status: "succeeded" });
    await agentSandboxesGone(AGENT_ID, 15_000);
  });
});
