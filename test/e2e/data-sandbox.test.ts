import { AgentList, type AgentSummary, type ExecutionResult } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../harness/docker.ts";
import { pollUntil } from "../harness/poll.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";

// The data-analysis sandbox end to end: the image's packages, what agents
// advertise of them, and warm containers that import them ahead of the program.
// Three pools, one agent each:
//   pool-a: the offline image (build-offline.sh), no preload
//   pool-b: the offline image, --preload python=numpy,pandas,matplotlib.pyplot
//   pool-c: the image built from the Dockerfile, no preload
const DOCKERFILE_IMAGE = "edgeswarm/python-dockerfile:latest";
const C = { key: "test-key-tenant-c-0003", pool: "pool-c", token: "test-token-pool-c-0003" };
const PRELOAD = ["--preload", "python=numpy,pandas,matplotlib.pyplot"];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let stack: Stack;
beforeAll(async () => {
  try {
    await docker.getImage(DOCKERFILE_IMAGE).inspect();
  } catch {
    throw new Error(
      `${DOCKERFILE_IMAGE} is missing: .ci/run builds it (docker build --build-arg BASE=<a debootstrap minbase> ` +
        "sandbox-agent/images/python)",
    );
  }
  stack = await startStack(
    "e2e-data",
    1,
    1,
    {},
    {
      apiKeys: { [C.key]: { tenant: "tenant-c", pools: [C.pool] } },
      agentTokens: { [C.token]: C.pool },
    },
  );
  await Promise.all([
    stack.startAgent({ id: "e2e-data-preload", pool: TENANTS.b.pool, token: TENANTS.b.token, args: PRELOAD }),
    stack.startAgent({
      id: "e2e-data-dockerfile",
      pool: C.pool,
      token: C.token,
      args: ["--image", `python=${DOCKERFILE_IMAGE}`],
    }),
  ]);
});
afterAll(async () => {
  await stack?.stop();
});

const CSV = ["region,x,y", "north,1,3.1", "south,2,4.9", "north,3,7.2", "south,4,8.8", "east,5,11.1"].join("\n");

/** Loads a CSV, groups it with pandas, fits a line with numpy and scipy, and saves a PNG. */
const ANALYSIS = `
import json
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from scipy import stats

df = pd.read_csv("sales.csv")
totals = df.groupby("region")["y"].sum().round(1).to_dict()
slope, intercept = np.polyfit(df["x"], df["y"], 1)
fit = stats.linregress(df["x"], df["y"])
fig, ax = plt.subplots(figsize=(4, 3))
ax.scatter(df["x"], df["y"])
ax.plot(df["x"], slope * df["x"] + intercept)
fig.savefig("out/fit.png")
print(json.dumps({"totals": totals, "slope": round(slope, 3), "r": round(fit.rvalue, 3),
                  "backend": plt.get_backend(), "pandas": pd.__version__}))
`;

async function analyse(key: string): Promise<ExecutionResult> {
  const res = await fetch(`${stack.api.url}/v1/executions`, {
    method: "POST",
    headers: { ...stack.api.headers(), Authorization: `Bearer ${key}` },
    body: JSON.stringify({
      language: "python",
      code: `import os\nos.makedirs("out", exist_ok=True)\n${ANALYSIS}`,
      files: [{ path: "sales.csv", content: CSV }],
    }),
  });
  const body = (await res.json()) as ExecutionResult;
  if (!res.ok) throw new Error(`POST /v1/executions answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Waits until the agent holds a running warm container, so the next execution takes it. */
async function warmReady(agentId: string): Promise<void> {
  await pollUntil(
    async () => {
      const list = await docker.listContainers({ filters: { label: [`edgeswarm.agent=${agentId}`] } });
      return list.some((c) => c.State === "running" && c.Names.some((n) => n.startsWith("/edgeswarm-warm-")))
        ? true
        : undefined;
    },
    { timeoutMs: 30_000, what: `a running warm container of ${agentId}` },
  );
}

async function agentsOf(key: string): Promise<AgentSummary[]> {
  const res = await fetch(`${stack.api.url}/v1/agents`, { headers: { Authorization: `Bearer ${key}` } });
  return AgentList.parse(await res.json()).agents;
}

describe.each([
  ["the offline image", TENANTS.a.key],
  ["the offline image with preload", TENANTS.b.key],
  ["the Dockerfile image", C.key],
])("a data analysis in %s", (_name, key) => {
  it("loads a CSV, groups and fits it, and returns the plot as a real PNG, with nothing on stderr", async () => {
    const result = await analyse(key);
    // No font-cache building, no config-directory warning, no backend complaint.
    expect(result.stderr).toBe("");
    expect(result.status).toBe("succeeded");
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ totals: { east: 11.1, north: 10.3, south: 13.7 }, backend: "agg" });
    expect(report.slope).toBeCloseTo(1.99, 2);
    expect(report.r).toBeGreaterThan(0.99);
    expect(result.files.map((f) => [f.path, f.encoding])).toEqual([["out/fit.png", "base64"]]);
    const png = Buffer.from(result.files[0]?.content ?? "", "base64");
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.length).toBeGreaterThan(1_000);
  });

  it("is advertised in GET /v1/agents with the pandas the program imported", async () => {
    const [agent] = await agentsOf(key);
    const python = agent?.sandboxes?.find((s) => s.language === "python");
    const imported = (JSON.parse((await analyse(key)).stdout) as { pandas: string }).pandas;
    expect(python).toMatchObject({ interpreter: { name: "python", version: expect.stringMatching(/^3\.\d+\.\d+$/) } });
    expect(python?.packages).toMatchObject({
      pandas: imported,
      numpy: expect.any(String),
      matplotlib: expect.any(String),
    });
    expect(Object.keys(python?.packages ?? {}).length).toBeLessThanOrEqual(256);
    for (const language of agent?.languages ?? []) {
      const sandbox = agent?.sandboxes?.find((s) => s.language === language);
      if (language === "bash") expect(sandbox?.interpreter).toMatchObject({ name: "bash" });
      if (language !== "python") expect(sandbox?.packages).toEqual({});
    }
    expect(agent?.sandboxes?.map((s) => s.language).sort()).toEqual([...(agent?.languages ?? [])].sort());
  });
});

describe("--preload", () => {
  const probe = "import sys\nprint('pandas' in sys.modules, 'matplotlib.pyplot' in sys.modules)\n";
  const run = async (key: string, agentId: string, env: Record<string, string> = {}) => {
    await warmReady(agentId);
    const res = await fetch(`${stack.api.url}/v1/executions`, {
      method: "POST",
      headers: { ...stack.api.headers(), Authorization: `Bearer ${key}` },
      body: JSON.stringify({ language: "python", code: probe, env }),
    });
    return ((await res.json()) as ExecutionResult).stdout;
  };

  it("has a warm container import the modules before the program arrives; none without it", async () => {
    expect(await run(TENANTS.b.key, "e2e-data-preload")).toBe("True True\n");
    expect(await run(TENANTS.a.key, "e2e-data-1")).toBe("False False\n");
  });

  it("gives a program that sets variables a fresh interpreter, since imports may have read them", async () => {
    expect(await run(TENANTS.b.key, "e2e-data-preload", { OMP_NUM_THREADS: "1" })).toBe("False False\n");
  });

  it("ends a preloaded program as python3 would: threads joined, atexit run, open files flushed, its exit code", async () => {
    await warmReady("e2e-data-preload");
    const code = [
      "import atexit, sys, threading, time",
      "def late():",
      "    time.sleep(0.2)",
      "    print('thread done', flush=True)",
      "threading.Thread(target=late).start()",
      "atexit.register(lambda: print('atexit ran'))",
      "kept = open('left-open.txt', 'w')",
      "kept.write('flushed at exit')",
      "print('main done')",
      "sys.exit(3)",
    ].join("\n");
    const res = await fetch(`${stack.api.url}/v1/executions`, {
      method: "POST",
      headers: { ...stack.api.headers(), Authorization: `Bearer ${TENANTS.b.key}` },
      body: JSON.stringify({ language: "python", code }),
    });
    const result = (await res.json()) as ExecutionResult;
    expect(result).toMatchObject({ exitCode: 3, stdout: "main done\nthread done\natexit ran\n", stderr: "" });
    expect(result.files).toEqual([{ path: "left-open.txt", content: "flushed at exit", encoding: "utf8" }]);
  });

  it("still uses each container once: a module a program changed is not seen by the next", async () => {
    await warmReady("e2e-data-preload");
    const mark = "import pandas\npandas.edgeswarm_mark = 1\nprint(hasattr(pandas, 'edgeswarm_mark'))\n";
    const check = "import pandas\nprint(hasattr(pandas, 'edgeswarm_mark'))\n";
    const post = async (code: string) => {
      await warmReady("e2e-data-preload");
      const res = await fetch(`${stack.api.url}/v1/executions`, {
        method: "POST",
        headers: { ...stack.api.headers(), Authorization: `Bearer ${TENANTS.b.key}` },
        body: JSON.stringify({ language: "python", code }),
      });
      return ((await res.json()) as ExecutionResult).stdout;
    };
    expect(await post(mark)).toBe("True\n");
    expect(await post(check)).toBe("False\n");
  });
});
