import { CLOSE_CODES, PROTOCOL_VERSION } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { within } from "../../scripts/lib/wait.ts";
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

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body;
}

describe("bad input to POST /v1/executions", () => {
  const post = (body: string) => stack.api.raw("/v1/executions", body);

  it("answers 400 invalid_json to malformed JSON", async () => {
    await expectError(await post("{not json"), 400, "invalid_json");
    await expectError(await post(""), 400, "invalid_json");
  });

  it("answers 400 invalid_request to wrong types, naming the field", async () => {
    const body = await expectError(
      await post(JSON.stringify({ language: "python", code: 42 })),
      400,
      "invalid_request",
    );
    expect(JSON.stringify(body)).toContain('"path":"code"');
    await expectError(await post(JSON.stringify([1, 2])), 400, "invalid_request");
    await expectError(
      await post(JSON.stringify({ language: "python", code: "", surprise: true })),
      400,
      "invalid_request",
    );
  });

  it("answers 400 to an unknown language", async () => {
    const body = await expectError(
      await post(JSON.stringify({ language: "cobol", code: "x" })),
      400,
      "invalid_request",
    );
    expect(JSON.stringify(body)).toContain('"path":"language"');
  });

  it("holds each request to its pool's own maxima, and caps the defaults by them", async () => {
    const body = await expectError(
      await post(JSON.stringify({ language: "python", code: "print(1)", limits: { memoryMb: 256, timeoutMs: 6_000 } })),
      400,
      "invalid_request",
    );
    expect(body.error.message).toBe(
      "timeoutMs must be at most 5000 in pool 'pool-a'; memoryMb must be at most 128 in pool 'pool-a'",
    );
    const runs = await expectError(
      await stack.api.raw("/v1/runs", JSON.stringify({ task: "t", limits: { memoryMb: 512 } })),
      400,
      "invalid_request",
    );
    expect(runs.error.message).toBe("memoryMb must be at most 128 in pool 'pool-a'");

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

  it("answers 400 to limits above the maxima, naming the limit", async () => {
    for (const limits of [{ timeoutMs: 10_000_000 }, { memoryMb: 1_000_000 }, { pids: 0 }, { outputBytes: 1e12 }]) {
      const body = await expectError(
        await post(JSON.stringify({ language: "python", code: "print(1)", limits })),
        400,
        "invalid_request",
      );
      expect(JSON.stringify(body)).toContain(`limits.${Object.keys(limits)[0]}`);
    }
  });

  it("answers 400 to a file path that escapes the workspace", async () => {
    for (const path of ["../etc/passwd", "/abs", "a/../../b", "a//b"]) {
      await expectError(
        await post(JSON.stringify({ language: "python", code: "", files: [{ path, content: "x" }] })),
        400,
        "invalid_request",
      );
    }
  });

  it("answers 413 to an oversized body", async () => {
    const huge = JSON.stringify({ language: "python", code: "#".repeat(17 * 1024 * 1024) });
    await expectError(await post(huge), 413, "payload_too_large");
  });

  it("answers 404 with the error body to an unknown route", async () => {
    await expectError(await stack.api.get("/v1/nothing-here"), 404, "not_found");
  });

  it("still serves normal executions afterwards", async () => {
    const result = await stack.api.execute({ language: "python", code: "print('ok')" });
    expect(result.stdout).toBe("ok\n");
  });
});

/** A raw wire-protocol client holding a valid agent token. */
function rawAgent(): Promise<{
  ws: WebSocket;
  frames: unknown[];
  next(): Promise<unknown>;
  closed: Promise<{ code: number; reason: string }>;
}> {
  const ws = new WebSocket(`${stack.worker.url.replace("http", "ws")}/v1/agents/connect`, {
    headers: { Authorization: `Bearer ${TENANTS.a.token}` },
  });
  const frames: unknown[] = [];
  const waiters: ((f: unknown) => void)[] = [];
  ws.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as unknown;
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const next = () =>
    within(
      frames.length ? Promise.resolve(frames.shift()) : new Promise<unknown>((r) => waiters.push(r)),
      10_000,
      "a frame from the Worker",
    );
  return new Promise((resolve, reject) => {
    ws.on("open", () => resolve({ ws, frames, next, closed }));
    ws.on("error", reject);
  });
}

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
      raw.ws.send(text);
      expect(await raw.next()).toMatchObject({ type: "error", error: { code: "bad_frame" } });
    }
    raw.ws.send(Buffer.from([1, 2, 3]));
    expect(await raw.next()).toMatchObject({ type: "error", error: { code: "bad_frame" } });

    // The real agent, on the same pool, is untouched.
    const result = await stack.api.execute({ language: "python", code: "print('healthy')" });
    expect(result).toMatchObject({ stdout: "healthy\n", agentId: "e2e-bad-1" });
    const list = (await (await stack.api.get("/v1/agents")).json()) as { agents: { id: string }[] };
    expect(list.agents.map((a) => a.id)).toEqual(["e2e-bad-1"]);
    raw.ws.close();
  });

  it("closes an agent of an incompatible protocol version with a clear reason", async () => {
    const raw = await rawAgent();
    raw.ws.send(
      JSON.stringify({
        type: "agent.hello",
        protocolVersion: PROTOCOL_VERSION + 1,
        agentId: "from-the-future",
        version: "9.9.9",
        capacity: 1,
        images: { python: "x" },
      }),
    );
    const closed = await within(raw.closed, 10_000, "the Worker to close the connection");
    expect(closed.code).toBe(CLOSE_CODES.incompatibleVersion);
    expect(closed.reason).toContain(`this Worker speaks ${PROTOCOL_VERSION}`);
  });

  it("ignores output for an execution this connection does not hold", async () => {
    const raw = await rawAgent();
    raw.ws.send(
      JSON.stringify({
        type: "agent.hello",
        protocolVersion: PROTOCOL_VERSION,
        agentId: "e2e-bad-raw",
        version: "0",
        capacity: 1,
        images: {},
      }),
    );
    expect(await raw.next()).toMatchObject({ type: "worker.welcome" });
    raw.ws.send(
      JSON.stringify({
        type: "exec.output",
        executionId: "ex_111111111111111111111111",
        seq: 0,
        stream: "stdout",
        data: "forged",
      }),
    );
    expect(await raw.next()).toMatchObject({ type: "error", error: { code: "unknown_execution" } });
    raw.ws.close();
  });
});
