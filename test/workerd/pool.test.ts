import {
  CLOSE_CODES,
  DEFAULT_LIMITS,
  type ExecStart,
  type ExecutionSummary,
  MAX_AGENT_FRAME_CHARS,
  newExecutionId,
} from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../scripts/lib/wait.ts";
import type { ExecuteInput } from "../../worker/src/pool/rpc.ts";
import { acceptOnly, finish, hold, instant, SimulatedAgent, SUCCEEDED } from "../harness/simulated-agent.ts";
import { TestWorker } from "../harness/test-worker.ts";

// The PoolDO inside workerd, driven through its RPC by the test Worker, with
// simulated agents that answer as a test tells them: no Docker. Each test
// uses a pool of its own.
let worker: TestWorker;
const agents: SimulatedAgent[] = [];
let poolNumber = 0;

beforeAll(async () => {
  worker = await TestWorker.start({ apiKeys: {}, agentTokens: {} });
}, 120_000);
afterEach(() => {
  for (const agent of agents.splice(0)) agent.close();
});
afterAll(async () => {
  await worker?.stop();
});

const newPool = () => `test-pool-${++poolNumber}`;

async function agent(pool: string, id: string, options: Parameters<TestWorker["agent"]>[2] = {}) {
  const a = await worker.agent(pool, id, options);
  agents.push(a);
  return a;
}

function input(tenant: string, over: Partial<ExecuteInput> & { limits?: Partial<typeof DEFAULT_LIMITS> } = {}) {
  const { limits, ...rest } = over;
  return {
    id: newExecutionId(),
    tenant: { id: tenant, concurrentExecutions: 64, queuedExecutions: 1_000 },
    spec: { language: "python", code: "x", files: [], args: [], env: {}, limits: { ...DEFAULT_LIMITS, ...limits } },
    queueTimeoutMs: 30_000,
    queueMax: 10_000,
    ...rest,
  } satisfies ExecuteInput;
}

/** The answer's summary; fails the test with the pool's refusal otherwise. */
function summaryOf(answer: { ok: boolean; value?: unknown; error?: unknown }): ExecutionSummary {
  if (!answer.ok) throw new Error(`refused: ${JSON.stringify(answer.error)}`);
  return answer.value as ExecutionSummary;
}

describe("the pool's queue", () => {
  it("serves tenants in turn, and each tenant in order", async () => {
    const pool = newPool();
    const a = await agent(pool, "agent-1", { capacity: 1, answer: acceptOnly });
    const first = worker.execute(pool, input("tenant-a"));
    const held = await a.start(1);
    const queued = [];
    for (const tenant of ["tenant-a", "tenant-a", "tenant-a", "tenant-b", "tenant-b"]) {
      const execution = worker.execute(pool, input(tenant));
      await execution.event("queued");
      queued.push({ tenant, execution });
    }
    const order: string[] = [];
    let start: ExecStart = held;
    for (let n = 2; n <= 6; n++) {
      a.reply(finish(start));
      start = await a.start(n);
      order.push(queued.find((q) => q.execution.id === start.executionId)?.tenant ?? "?");
    }
    a.reply(finish(start));
    // tenant-a was served first, so tenant-b, which then began to wait, goes next; then they alternate.
    expect(order).toEqual(["tenant-b", "tenant-a", "tenant-b", "tenant-a", "tenant-a"]);
    for (const { execution } of [{ execution: first }, ...queued]) {
      expect(summaryOf((await execution.done).answer).status).toBe("succeeded");
    }
  });

  it("holds a tenant to its quotas: concurrentExecutions and queuedExecutions, and others use the room", async () => {
    const pool = newPool();
    const a = await agent(pool, "agent-1", { capacity: 4, answer: acceptOnly });
    const quota = { id: "tenant-c", concurrentExecutions: 1, queuedExecutions: 1 };
    worker.execute(pool, input("tenant-c", { tenant: quota })); // held by the agent: tenant-c runs one
    await a.start(1);
    const waiting = worker.execute(pool, input("tenant-c", { tenant: quota }));
    await waiting.event("queued"); // the agent has room; the tenant does not
    const refused = await worker.execute(pool, input("tenant-c", { tenant: quota, queueTimeoutMs: 0 })).done;
    expect(refused.answer).toMatchObject({
      ok: false,
      error: { code: "quota_exceeded", details: { quota: "concurrentExecutions", limit: 1 } },
    });
    const overQueue = await worker.execute(pool, input("tenant-c", { tenant: quota })).done;
    expect(overQueue.answer).toMatchObject({
      ok: false,
      error: { code: "quota_exceeded", details: { quota: "queuedExecutions", limit: 1 } },
    });
    // Another tenant uses the agent's free room meanwhile.
    const other = worker.execute(pool, input("tenant-d"));
    const otherStart = await a.start(2);
    expect(otherStart.executionId).toBe(other.id);
    a.reply(finish(otherStart));
    expect(summaryOf((await other.done).answer).status).toBe("succeeded");
  });

  it("holds the pool to its queueMax: queue_full, whoever asks", async () => {
    const pool = newPool();
    const a = await agent(pool, "agent-1", { capacity: 1, answer: acceptOnly });
    worker.execute(pool, input("tenant-a"));
    await a.start(1);
    await worker.execute(pool, input("tenant-b", { queueMax: 1 })).event("queued");
    const full = await worker.execute(pool, input("tenant-c", { queueMax: 1 })).done;
    expect(full.answer).toMatchObject({ ok: false, error: { code: "queue_full", details: { limit: 1 } } });
  });

  it("answers no_capacity at the end of queueTimeoutMs, and no_agents when there were none", async () => {
    const pool = newPool();
    const none = await worker.execute(pool, input("tenant-a", { queueTimeoutMs: 300 })).done;
    expect(none.answer).toMatchObject({ ok: false, error: { code: "no_agents", retryAfterS: 5 } });
    const a = await agent(pool, "agent-1", { capacity: 1, answer: acceptOnly });
    worker.execute(pool, input("tenant-a"));
    await a.start(1);
    const late = await worker.execute(pool, input("tenant-a", { queueTimeoutMs: 300 })).done;
    expect(late.answer).toMatchObject({ ok: false, error: { code: "no_capacity", retryAfterS: 1 } });
    expect(late.ended - late.started).toBeGreaterThanOrEqual(300);
  });
});

describe("leases", () => {
  it("go to another agent when one does not acknowledge in time, and the silent one gets nothing more", async () => {
    const pool = newPool();
    const silent = await agent(pool, "a-silent", { capacity: 8, answer: hold, heartbeatMs: 0 });
    await agent(pool, "b-real", { capacity: 1 });
    const execution = worker.execute(pool, input("tenant-a"));
    const offered = await silent.start(1);
    expect(offered.executionId).toBe(execution.id);
    const done = await execution.done;
    const summary = summaryOf(done.answer);
    expect(summary).toMatchObject({ status: "succeeded", agentId: "b-real" });
    expect(done.ended - done.started).toBeGreaterThanOrEqual(3_000);
    // Its caller heard of one start only, on the agent that took it.
    expect(done.events.filter((e) => e.event.type === "started").map((e) => e.event)).toEqual([
      { type: "started", agentId: "b-real" },
    ]);
    await silent.cancelled(execution.id);
    const next = summaryOf((await worker.execute(pool, input("tenant-a")).done).answer);
    expect(next.agentId).toBe("b-real");
    expect(silent.starts).toHaveLength(1);
  });

  it("are refused to frames before exec.accepted, and to frames of another connection's execution", async () => {
    const pool = newPool();
    const a = await agent(pool, "agent-1", { answer: hold });
    const b = await agent(pool, "agent-2", { answer: hold });
    const execution = worker.execute(pool, input("tenant-a"));
    const start = await Promise.race([a.start(1), b.start(1)]);
    const [holder, other] = a.starts.length ? [a, b] : [b, a];
    other.send({ type: "exec.accepted", executionId: start.executionId });
    expect(await other.next((f) => f.type === "error")).toMatchObject({ error: { code: "unknown_execution" } });
    holder.send({ type: "exec.output", executionId: start.executionId, seq: 0, stream: "stdout", data: "early" });
    expect(await holder.next((f) => f.type === "error")).toMatchObject({ error: { code: "bad_frame" } });
    holder.reply(instant(start));
    const summary = summaryOf((await execution.done).answer);
    expect(summary.status).toBe("succeeded");
  });
});

describe("what an agent sends", () => {
  it("is cut at outputBytes and marked, and each frame takes window", async () => {
    const pool = newPool();
    const a = await agent(pool, "agent-1", { answer: hold });
    const execution = worker.execute(pool, input("tenant-a", { limits: { outputBytes: 1_024 } }));
    const start = await a.start(1);
    a.send({ type: "exec.accepted", executionId: start.executionId });
    for (let seq = 0; seq < 4; seq++) {
      a.send({ type: "exec.output", executionId: start.executionId, seq, stream: "stdout", data: "y".repeat(500) });
    }
    a.send({ type: "exec.finished", executionId: start.executionId, seq: 4, outcome: SUCCEEDED });
    const done = await execution.done;
    const stdout = done.events.map((e) => (e.event.type === "stdout" ? e.event.data : "")).join("");
    expect(stdout).toBe("y".repeat(1_024));
    expect(summaryOf(done.answer)).toMatchObject({ status: "output_limited", truncated: { stdout: true } });
    expect(a.credits.get(start.executionId)).toBeGreaterThan(0); // the window came back as the caller took them
  });

  it("past the protocol's frame size, or past its window, fails only that execution", async () => {
    const pool = newPool();
    const a = await agent(pool, "agent-1", { answer: hold });
    const big = worker.execute(pool, input("tenant-a"));
    const start = await a.start(1);
    a.send({ type: "exec.accepted", executionId: start.executionId });
    a.send({
      type: "exec.output",
      executionId: start.executionId,
      seq: 0,
      stream: "stdout",
      data: "z".repeat(MAX_AGENT_FRAME_CHARS + 10),
    });
    expect(summaryOf((await big.done).answer)).toMatchObject({
      status: "error",
      error: { code: "sandbox_error", message: expect.stringContaining("over the") },
    });
    await a.cancelled(start.executionId);

    // An agent that ignores its window: the pool would hold what the caller never took.
    const greedy = worker.execute(pool, input("tenant-a"), { sink: "never" });
    const second = await a.start(2);
    a.send({ type: "exec.accepted", executionId: second.executionId });
    const piece = "w".repeat(200_000);
    const frames = Math.ceil(second.window / piece.length) + 2;
    for (let seq = 0; seq < frames; seq++) {
      a.send({ type: "exec.output", executionId: second.executionId, seq, stream: "stdout", data: piece });
    }
    // It is cancelled at once, long before its caller would be let go for not reading.
    await a.cancelled(second.executionId, 5_000);
    expect(await a.next((f) => f.type === "exec.cancel" && f.executionId === second.executionId)).toMatchObject({
      reason: expect.stringContaining("beyond its flow-control window"),
    });
    void greedy.done.catch(() => {}); // it ends client_too_slow once its caller is let go

    // The connection itself is fine.
    a.answer = instant;
    expect(summaryOf((await worker.execute(pool, input("tenant-a")).done).answer).status).toBe("succeeded");
  });

  it("has its returned files held to their count, and a broken one dropped", async () => {
    const pool = newPool();
    const a = await agent(pool, "agent-1", { answer: hold });
    const execution = worker.execute(pool, input("tenant-a", { limits: { returnedFiles: 1 } }));
    const start = await a.start(1);
    const id = start.executionId;
    a.send({ type: "exec.accepted", executionId: id });
    a.send({ type: "exec.file", executionId: id, seq: 0, path: "one.txt", encoding: "utf8", data: "1", more: false });
    a.send({ type: "exec.file", executionId: id, seq: 1, path: "two.txt", encoding: "utf8", data: "2", more: false });
    a.send({ type: "exec.finished", executionId: id, seq: 2, outcome: SUCCEEDED });
    const done = await execution.done;
    expect(done.events.map((e) => e.event)).toContainEqual({ type: "file_dropped", path: "two.txt" });
    expect(summaryOf(done.answer).error?.code).toBe("files_truncated");
  });
});

describe("a caller that does not read", () => {
  it("holds its own execution to its window, and after CLIENT_STALL_MS it is cancelled client_too_slow", async () => {
    const pool = newPool();
    // An honest agent: it sends only while its window is open.
    const a = await agent(pool, "agent-1", {
      answer: (start) => {
        const frames: Parameters<SimulatedAgent["reply"]>[0] = [
          { type: "exec.accepted", executionId: start.executionId },
        ];
        const piece = "q".repeat(60_000);
        for (let seq = 0, spent = 0; spent < start.window; seq++) {
          const frame = {
            type: "exec.output",
            executionId: start.executionId,
            seq,
            stream: "stdout",
            data: piece,
          } as const;
          spent += JSON.stringify(frame).length;
          frames.push(frame);
        }
        return frames;
      },
    });
    const stalled = worker.execute(pool, input("tenant-a"), { sink: "never" });
    const start = await a.start(1);
    const done = await within(stalled.done, 20_000, "the stalled execution to end");
    expect(summaryOf(done.answer)).toMatchObject({ status: "cancelled", error: { code: "client_too_slow" } });
    expect(done.ended - done.started).toBeGreaterThanOrEqual(10_000);
    await a.cancelled(start.executionId);
    expect(a.credits.get(start.executionId) ?? 0).toBe(0); // nothing was taken, so no window came back
  }, 30_000);
});

describe("agent identity", () => {
  it("keeps an id for the token that holds it: another token is refused, the same token replaces its own", async () => {
    const pool = newPool();
    const first = await agent(pool, "node-1", { tokenId: "token-a" });
    const other = await SimulatedAgent.open(
      `${worker.url.replace(/^http/, "ws")}/__test/pools/${pool}/connect?tokenId=token-b`,
      "x",
      "node-1",
    );
    agents.push(other);
    other.send({
      type: "agent.hello",
      protocolVersion: 2,
      agentId: "node-1",
      version: "0",
      capacity: 1,
      images: { python: "x" },
    });
    expect((await within(other.closed, 10_000, "the refusal")).code).toBe(CLOSE_CODES.idInUse);
    expect(summaryOf((await worker.execute(pool, input("tenant-a")).done).answer).agentId).toBe("node-1");

    const again = await agent(pool, "node-1", { tokenId: "token-a" });
    expect((await within(first.closed, 10_000, "the replaced connection to close")).code).toBe(CLOSE_CODES.replaced);
    expect(again.ws.readyState).toBe(again.ws.OPEN);
  });

  it("cuts an agent's capacity to its token's most, and says so in the welcome", async () => {
    const pool = newPool();
    const greedy = await SimulatedAgent.open(
      `${worker.url.replace(/^http/, "ws")}/__test/pools/${pool}/connect?tokenId=token-a&maxCapacity=3`,
      "x",
      "greedy",
    );
    agents.push(greedy);
    expect(await greedy.hello({ capacity: 1024 })).toMatchObject({ type: "worker.welcome", capacity: 3 });
  });
});

describe("what agents' images hold", () => {
  const python = (packages: Record<string, string>) => ({
    language: "python" as const,
    image: "img/data:1",
    interpreter: { name: "python", version: "3.11.2" },
    packages,
  });

  it("lists each agent's sandboxes whole, past what a socket attachment holds, and profiles what all share", async () => {
    const pool = newPool();
    // About 9 KB of packages: more than the 2,048 bytes a hibernation attachment may hold.
    const many = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`package-${i}`, `1.${i}.0`]));
    const full = await SimulatedAgent.open(
      `${worker.url.replace(/^http/, "ws")}/__test/pools/${pool}/connect`,
      "x",
      "full",
    );
    agents.push(full);
    await full.hello({ sandboxes: [python({ ...many, pandas: "1.5.3", numpy: "1.26.4" })] });
    const lean = await SimulatedAgent.open(
      `${worker.url.replace(/^http/, "ws")}/__test/pools/${pool}/connect`,
      "x",
      "lean",
    );
    agents.push(lean);
    await lean.hello({ sandboxes: [python({ numpy: "1.24.2" })] });

    const both = await worker.sandboxes(pool);
    expect(Object.keys(both.agents.find((a) => a.id === "full")?.sandboxes?.[0]?.packages ?? {})).toHaveLength(252);
    expect(both.profile.languages).toEqual([
      {
        language: "python",
        agents: 2,
        interpreter: { name: "python", version: "3.11.2" },
        packages: { numpy: "1.24.2" },
      },
    ]);

    lean.close();
    await within(
      (async () => {
        while ((await worker.sandboxes(pool)).agents.length !== 1) await new Promise((r) => setTimeout(r, 50));
      })(),
      10_000,
      "the lean agent to leave the pool",
    );
    const one = await worker.sandboxes(pool);
    expect(one.profile.languages[0]?.packages).toMatchObject({ pandas: "1.5.3", numpy: "1.26.4" });
  });

  it("promises nothing of a language whose agent says nothing (an older agent)", async () => {
    const pool = newPool();
    await agent(pool, "old");
    const { agents: listed, profile } = await worker.sandboxes(pool);
    expect(listed[0]?.sandboxes).toBeUndefined();
    expect(profile.languages).toEqual([{ language: "python", agents: 1, packages: {} }]);
  });

  it("refuses a hello whose sandboxes are over the bounds", async () => {
    const pool = newPool();
    const greedy = await SimulatedAgent.open(
      `${worker.url.replace(/^http/, "ws")}/__test/pools/${pool}/connect`,
      "x",
      "greedy",
    );
    agents.push(greedy);
    const tooMany = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`p${i}`, "1"]));
    greedy.send({
      type: "agent.hello",
      protocolVersion: 2,
      agentId: "greedy",
      version: "0",
      capacity: 1,
      images: { python: "x" },
      sandboxes: [python(tooMany)],
    });
    expect(await greedy.next((f) => f.type === "error")).toMatchObject({ error: { code: "bad_frame" } });
  });
});
