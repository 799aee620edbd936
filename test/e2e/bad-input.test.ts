import { CLOSE_CODES, PROTOCOL_VERSION } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../scripts/lib/wait.ts";
import { SimulatedAgent } from "../harness/simulated-agent.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";

let stack: Stack;
beforeAll(async () => {
  // pool-a's operator lowered two maxima; see worker/src/pool-limits.ts.
  stack = await startStack("e2e-bad", 1, 2, {
    EDGESWARM_POOL_LIMITS: JSON.stringify({ "pool-a": { memoryMb: 128, timeoutMs: 5_000 } }),
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe("limits of a pool's own", () => {
  it("caps the defaults by the pool's maxima: the sandbox gets the lower memory", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: [
        "import os",
        "for cg in ('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'):",
        "    if os.path.exists(cg):",
        "        print(int(open(cg).read()) // (1024 * 1024))",
      ].join("\n"),
    });
    expect(result).toMatchObject({ status: "succeeded", stdout: "128\n" });
  });

  it("still serves normal executions", async () => {
    const result = await stack.api.execute({ language: "python", code: "print('ok')" });
    expect(result.stdout).toBe("ok\n");
  });
});

const rawAgent = () => SimulatedAgent.open(stack.worker.url, TENANTS.a.token);

describe("malformed wire messages from an agent", () => {
  it("rejects each with a bad_frame error and leaves the pool and the other agents healthy", async () => {
    const raw = await rawAgent();
    const garbage = [
      "not json at all",
      JSON.stringify({ type: "agent.hello" }),
      JSON.stringify({
        type: "exec.output",
        executionId: "ex_000000000000000000000000",
        seq: -1,
        stream: "x",
        data: 1,
      }),
      JSON.stringify({ type: "no.such.frame" }),
      JSON.stringify({ __proto__: { polluted: true }, type: "agent.heartbeat", inFlight: "many" }),
    ];
    for (const text of garbage) {
      raw.send(text);
      expect(await raw.next()).toMatchObject({ type: "error", error: { code: "bad_frame" } });
    }
    raw.ws.send(Buffer.from([1, 2, 3]));
    expect(await raw.next()).toMatchObject({ type: "error", error: { code: "bad_frame" } });

    // The real agent, on the same pool, is untouched.
    const result = await stack.api.execute({ language: "python", code: "print('healthy')" });
    expect(result).toMatchObject({ stdout: "healthy\n", agentId: "e2e-bad-1" });
    const list = (await (await stack.api.get("/v1/agents")).json()) as { agents: { id: string }[] };
    expect(list.agents.map((a) => a.id)).toEqual(["e2e-bad-1"]);
    raw.close();
  });

  it("closes an agent of an incompatible protocol version with a clear reason", async () => {
    const raw = await rawAgent();
    raw.send({
      type: "agent.hello",
      protocolVersion: PROTOCOL_VERSION + 1,
      agentId: "from-the-future",
      version: "9.9.9",
      capacity: 1,
      images: { python: "x" },
    });
    const closed = await within(raw.closed, 10_000, "the Worker to close the connection");
    expect(closed.code).toBe(CLOSE_CODES.incompatibleVersion);
    expect(closed.reason).toContain(`this Worker speaks ${PROTOCOL_VERSION}`);
  });

  it("ignores output for an execution this connection does not hold", async () => {
    const raw = await rawAgent();
    expect(await raw.hello({ agentId: "e2e-bad-raw" })).toMatchObject({ type: "worker.welcome" });
    raw.send({
      type: "exec.output",
      executionId: "ex_111111111111111111111111",
      seq: 0,
      stream: "stdout",
      data: "forged",
    });
    expect(await raw.next()).toMatchObject({ type: "error", error: { code: "unknown_execution" } });
    raw.close();
  });
});
