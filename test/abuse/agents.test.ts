import { AgentList, type AgentSummary, CLOSE_CODES, type ExecStart, type WorkerFrame } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../scripts/lib/wait.ts";
import { SimulatedAgent } from "../harness/simulated-agent.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";

// A hostile sandbox agent: a raw client with a valid token of the real agent's
// pool, saying what a real agent never would. Whatever it says, the real agent
// keeps its connection and its work, and every tenant's execution succeeds.
const HOSTILE_TOKEN = "test-token-pool-a-hostile-02";
const REAL = "abuse-agents-1";

let stack: Stack;
let connectedAt: string;
const raws: SimulatedAgent[] = [];

async function agents(): Promise<AgentSummary[]> {
  return AgentList.parse(await (await stack.api.get("/v1/agents")).json()).agents;
}

async function hostile(): Promise<SimulatedAgent> {
  const raw = await SimulatedAgent.open(stack.worker.url, HOSTILE_TOKEN);
  raws.push(raw);
  return raw;
}

beforeAll(async () => {
  stack = await startStack("abuse-agents", 1, 2, {}, { agentTokens: { [HOSTILE_TOKEN]: TENANTS.a.pool } });
  connectedAt = (await agents()).find((a) => a.id === REAL)?.connectedAt ?? "";
  expect(connectedAt).not.toBe("");
}, 120_000);
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.close();
  // The real agent is unharmed: the same connection, and it still works.
  const real = (await agents()).find((a) => a.id === REAL);
  expect(real?.connectedAt).toBe(connectedAt);
  expect(await stack.api.execute({ language: "python", code: "print('still here')" })).toMatchObject({
    status: "succeeded",
    stdout: "still here\n",
    agentId: REAL,
  });
});
afterAll(async () => {
  await stack?.stop();
});

const isStart = (f: WorkerFrame): f is ExecStart => f.type === "exec.start";

describe("a hostile agent", () => {
  it("cannot take over another agent's id: it is refused, and the live agent keeps its connection", async () => {
    const raw = await hostile();
    raw.send({
      type: "agent.hello",
      protocolVersion: 2,
      agentId: REAL,
      version: "0",
      capacity: 8,
      images: { python: "x" },
    });
    const closed = await within(raw.closed, 10_000, "the Worker to refuse the hello");
    expect(closed.code).toBe(CLOSE_CODES.idInUse);
    expect(closed.reason).toContain(`agent id '${REAL}' is connected with another agent token`);
    expect((await agents()).map((a) => a.id)).toEqual([REAL]);
  });

  it("advertising capacity 1024 and never acknowledging a lease gets it one lease at a time, cut to its token's most", async () => {
    const raw = await hostile();
    const welcome = await raw.hello({ agentId: "abuse-hostile-greedy", capacity: 1024 });
    expect(welcome).toMatchObject({ type: "worker.welcome", capacity: 64 });
    expect((await agents()).find((a) => a.id === "abuse-hostile-greedy")?.capacity).toBe(64);
    // It speaks (heartbeats), so it is offered work again and again, and takes none of it.
    const heartbeat = setInterval(() => raw.send({ type: "agent.heartbeat", inFlight: 0 }), 500);
    let starts = 0;
    const counting = (async () => {
      for (;;) {
        await raw.next(isStart, 60_000).catch(() => null);
        if (raw.ws.readyState !== raw.ws.OPEN) return;
        starts++;
      }
    })();
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => stack.api.execute({ language: "python", code: `print(${i})` })),
      );
      expect(results.map((r) => [r.status, r.stdout, r.agentId])).toEqual(
        results.map((_, i) => ["succeeded", `${i}\n`, REAL]),
      );
      expect(starts).toBeGreaterThan(0); // it was offered some, and each went to the real agent after all
      expect(starts).toBeLessThan(12);
    } finally {
      clearInterval(heartbeat);
      raw.close();
      await counting;
    }
  });

  it("cannot report output or a result for an execution it does not hold", async () => {
    const raw = await hostile();
    await raw.hello({ agentId: "abuse-hostile-forger" });
    const events = stack.api.stream({ language: "python", code: "import time\ntime.sleep(1.5)\nprint('real')" });
    const started = await events.next();
    expect(started.value).toMatchObject({ type: "started", agentId: REAL });
    const id = (started.value as { id: string }).id;
    raw.send({ type: "exec.output", executionId: id, seq: 0, stream: "stdout", data: "forged" });
    raw.send({
      type: "exec.finished",
      executionId: id,
      seq: 1,
      outcome: {
        status: "failed",
        exitCode: 66,
        signal: null,
        durationMs: 1,
        truncated: { stdout: false, stderr: false },
      },
    });
    expect(await raw.next((f) => f.type === "error")).toMatchObject({ error: { code: "unknown_execution" } });
    let stdout = "";
    for await (const e of events) {
      if (e.type === "stdout") stdout += e.data;
      if (e.type === "finished") expect(e.result).toMatchObject({ status: "succeeded", exitCode: 0 });
    }
    expect(stdout).toBe("real\n");
  });

  it("has a frame over its maximum refused, and a 40 MiB one closes only its own connection", async () => {
    const raw = await hostile();
    await raw.hello({ agentId: "abuse-hostile-huge" });
    // Over the protocol's 1 MiB, under workerd's own limit: refused as malformed.
    raw.send(JSON.stringify({ type: "agent.heartbeat", inFlight: 0, pad: "x".repeat(2 * 1024 * 1024) }));
    expect(await raw.next((f) => f.type === "error")).toMatchObject({
      error: { code: "bad_frame", message: expect.stringContaining("over the 1048576 an agent may send") },
    });
    // Over workerd's 32 MiB: the runtime itself closes the connection (1009) before any code of ours sees it.
    // Through wrangler dev's proxy the close takes about 15 s to arrive.
    raw.send(JSON.stringify({ type: "agent.heartbeat", inFlight: 0, pad: "x".repeat(40 * 1024 * 1024) }));
    const closed = await within(raw.closed, 60_000, "the Worker to close the connection");
    expect(closed.code).toBe(1009);
  }, 90_000);

  describe("holding a lease of its own (the only agent that runs node)", () => {
    async function leased(agentId: string, request: Record<string, unknown>) {
      const raw = await hostile();
      await raw.hello({ agentId, capacity: 2, images: { node: "raw" } });
      const answer = stack.api.raw("/v1/executions", JSON.stringify({ language: "node", code: "x", ...request }));
      const start = (await raw.next(isStart)) as ExecStart;
      raw.send({ type: "exec.accepted", executionId: start.executionId });
      return { raw, start, answer };
    }
    const ok = {
      status: "succeeded",
      exitCode: 0,
      signal: null,
      durationMs: 1,
      truncated: { stdout: false, stderr: false },
    };

    it("has its output past outputBytes cut, and marked", async () => {
      const { raw, start, answer } = await leased("abuse-hostile-flood", { limits: { outputBytes: 1024 } });
      for (let seq = 0; seq < 8; seq++) {
        raw.send({ type: "exec.output", executionId: start.executionId, seq, stream: "stdout", data: "y".repeat(500) });
      }
      raw.send({ type: "exec.finished", executionId: start.executionId, seq: 8, outcome: ok });
      const result = (await (await answer).json()) as { stdout: string; status: string; truncated: unknown };
      expect(result.stdout).toBe("y".repeat(1024));
      expect(result).toMatchObject({ status: "output_limited", truncated: { stdout: true, stderr: false } });
    });

    it("has a long error message cut, and a 10 MB one fails only that execution", async () => {
      const long = await leased("abuse-hostile-talker", {});
      long.raw.send({
        type: "exec.finished",
        executionId: long.start.executionId,
        seq: 0,
        outcome: {
          ...ok,
          status: "error",
          exitCode: null,
          error: { code: "sandbox_error", message: "m".repeat(500_000) },
        },
      });
      const cut = (await (await long.answer).json()) as { error: { message: string } };
      expect(cut.error.message.length).toBe(4096);

      const huge = await leased("abuse-hostile-shouter", {});
      huge.raw.send({
        type: "exec.finished",
        executionId: huge.start.executionId,
        seq: 0,
        outcome: {
          ...ok,
          status: "error",
          exitCode: null,
          error: { code: "sandbox_error", message: "m".repeat(10_000_000) },
        },
      });
      const refused = (await (await huge.answer).json()) as {
        status: string;
        error: { code: string; message: string };
      };
      expect(refused).toMatchObject({ status: "error", error: { code: "sandbox_error" } });
      expect(refused.error.message).toContain("over the");
      expect(refused.error.message.length).toBeLessThan(4096);
    });
  });
});
