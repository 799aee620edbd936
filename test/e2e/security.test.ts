import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { AgentProcess } from "../harness/agent.ts";
import { Api } from "../harness/api.ts";
import { AGENT_SECRET, type Stack, startStack, TENANTS } from "../harness/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack("e2e-sec", 1, 2);
});
afterAll(async () => {
  await stack?.stop();
});

describe("API keys and tenants", () => {
  it("answers 401 with no key and with a wrong key", async () => {
    for (const key of [undefined, "not-a-real-key-123"]) {
      const api = new Api(stack.worker.url, key);
      const res = await api.raw("/v1/executions", JSON.stringify({ language: "python", code: "print(1)" }));
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
      expect((await api.get("/v1/agents")).status).toBe(401);
    }
  });

  it("shows a tenant only its own agents", async () => {
    const a = (await (await stack.api.get("/v1/agents")).json()) as { agents: { id: string; pool: string }[] };
    expect(a.agents.map((x) => x.id)).toEqual(["e2e-sec-1"]);
    expect(a.agents[0]).toMatchObject({
      pool: TENANTS.a.pool,
      capacity: 2,
      inFlight: 0,
      languages: ["python", "bash"],
    });
    const b = (await (await stack.apiB.get("/v1/agents")).json()) as { agents: unknown[] };
    expect(b.agents).toEqual([]);
  });

  it("refuses another tenant's pool", async () => {
    const res = await stack.apiB.raw(
      "/v1/executions",
      JSON.stringify({ language: "python", code: "print(1)", pool: TENANTS.a.pool }),
    );
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
  });
});

describe("agent tokens", () => {
  it("refuses an agent with a wrong token, and the agent exits with a clear message", async () => {
    const agent = AgentProcess.spawn({ url: stack.worker.url, token: "wrong-token-000000", id: "e2e-sec-intruder" });
    expect(await agent.proc.exited).toBe(2);
    expect(agent.proc.log.all.join("\n")).toContain("HTTP 401 (invalid agent token)");
    const list = (await (await stack.api.get("/v1/agents")).json()) as { agents: { id: string }[] };
    expect(list.agents.map((x) => x.id)).not.toContain("e2e-sec-intruder");
  });

  it("refuses a raw WebSocket without a token", async () => {
    const ws = new WebSocket(`${stack.worker.url.replace("http", "ws")}/v1/agents/connect`);
    const status = await new Promise<number>((resolve, reject) => {
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => reject(new Error("the Worker accepted an agent without a token")));
    });
    expect(status).toBe(401);
  });
});

describe("inside the sandbox", () => {
  it("has no host secret, is not root, and has no interface but lo", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: [
        "import os, socket",
        `print(os.environ.get(${JSON.stringify(AGENT_SECRET.name)}))`,
        "print(os.getuid(), os.geteuid(), os.getgid())",
        "print(sorted(os.listdir('/sys/class/net')))",
        "print(sorted(k for k in os.environ if k.startswith(('EDGESWARM', 'DOCKER'))))",
        "try:",
        "    socket.getaddrinfo('example.com', 80)",
        "    print('resolved')",
        "except OSError:",
        "    print('no resolution')",
        "try:",
        "    open('/etc/evil', 'w')",
        "except OSError as e:",
        "    print(type(e).__name__)",
      ].join("\n"),
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("None\n65534 65534 65534\n['lo']\n[]\nno resolution\nOSError\n");
    expect(result.stdout).not.toContain(AGENT_SECRET.value);
  });

  it("passes the request's env and nothing of the host's", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: "import os\nprint(os.environ['GREETING'])\nprint('HOSTNAME_LEAK' if 'host-secret' in str(os.environ) else 'clean')",
      env: { GREETING: "hi" },
    });
    expect(result.stdout).toBe("hi\nclean\n");
  });
});
