import { spawn } from "node:child_process";
import { AgentList } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FakeAnthropic } from "../fakes/anthropic.ts";
import { FakeModels } from "../fakes/models.ts";
import type { FakeOpenAI } from "../fakes/openai.ts";
import { type RecordedRequest, reply } from "../fakes/server.ts";
import type { Api } from "../harness/api.ts";
import { PNG_SIGNATURE } from "../harness/programs.ts";
import { createRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";

// A data-analysis run end to end, and prompts that describe the sandbox from
// what the pool's agents advertise. pool-a's agent runs the data image;
// pool-b's runs an image made from it without pandas.
const NO_PANDAS = "edgeswarm/test-python-nopandas:latest";

let stack: Stack;
let models: FakeModels;
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;

/** `docker build` from a Dockerfile given on stdin (the base image is local: no registry is asked). */
function build(tag: string, dockerfile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["build", "-q", "-t", tag, "-"], { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`docker build ${tag}: ${err}`))));
    child.stdin.end(dockerfile);
  });
}

beforeAll(async () => {
  await build(
    NO_PANDAS,
    [
      "FROM edgeswarm/python:latest",
      "USER root",
      "RUN rm -rf /usr/lib/python3/dist-packages/pandas /usr/lib/python3/dist-packages/pandas-*",
      "USER 65534:65534",
    ].join("\n"),
  );
  models = await FakeModels.start("e2e-data-runs");
  ({ anthropic, openai } = models);
  stack = await startStack("e2e-data-runs", 1, 2, models.vars);
  await stack.startAgent({
    id: "e2e-data-runs-nopandas",
    pool: TENANTS.b.pool,
    token: TENANTS.b.token,
    args: ["--image", `python=${NO_PANDAS}`],
  });
});
afterEach(() => models?.reset());
afterAll(async () => {
  await stack?.stop();
  await models?.close();
});

const CSV = ["region,x,y", "north,1,3.1", "south,2,4.9", "north,3,7.2", "south,4,8.8", "east,5,11.1"].join("\n");
const ANALYSIS = `import json
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from scipy import stats
df = pd.read_csv("sales.csv")
totals = df.groupby("region")["y"].sum().round(1).to_dict()
fit = stats.linregress(df["x"], df["y"])
slope, intercept = np.polyfit(df["x"], df["y"], 1)
fig, ax = plt.subplots(figsize=(4, 3))
ax.scatter(df["x"], df["y"])
ax.plot(df["x"], slope * df["x"] + intercept)
fig.savefig("fit.png")
print(json.dumps({"totals": totals, "r": round(fit.rvalue, 3)}))
`;

/** The system prompt a request carried, in either provider's wire format. */
function systemOf(request: RecordedRequest | undefined): string {
  const body = request?.body as { system?: unknown; messages?: { role: string; content: unknown }[] } | undefined;
  if (body?.system !== undefined) return JSON.stringify(body.system);
  return JSON.stringify(body?.messages?.find((m) => m.role === "system" || m.role === "developer")?.content ?? "");
}

async function pandasOf(api: Api): Promise<string | undefined> {
  const res = await api.get("/v1/agents");
  const agents = AgentList.parse(await res.json()).agents;
  return agents[0]?.sandboxes?.find((s) => s.language === "python")?.packages.pandas;
}

describe("a data-analysis run", () => {
  it("groups a CSV with pandas, fits it, and returns the plot as a real PNG, listed with its size", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { code: ANALYSIS }),
      reply.toolUse("finish", { summary: "grouped, fitted, plotted", code: ANALYSIS, verdict: "success" }),
    );
    const id = await createRun(stack.api, {
      task: "Total y by region in sales.csv, fit a line, and plot it.",
      planner: null,
      files: [{ path: "sales.csv", content: CSV }],
    });
    const { view } = await runToEnd(stack.api, id, 60_000);
    expect(view.error).toBeNull();
    expect(view.status).toBe("succeeded");
    expect(JSON.parse(view.result?.stdout ?? "")).toMatchObject({ totals: { east: 11.1, north: 10.3, south: 13.7 } });
    const png = view.result?.files.find((f) => f.path === "fit.png");
    expect(png?.encoding).toBe("base64");
    const bytes = Buffer.from(png?.content ?? "", "base64");
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(view.result?.manifest).toEqual([{ path: "fit.png", encoding: "base64", bytes: bytes.length }]);
    expect(anthropic.violations).toEqual([]);
  });
});

describe("the prompts' sandbox", () => {
  it("names the packages the pool's agent advertised, to the planner and to the coder", async () => {
    const pandas = await pandasOf(stack.api);
    expect(pandas).toMatch(/^\d+\.\d+/);
    openai.enqueue(reply.structured({ steps: [{ goal: "print 1", successCriterion: "it prints 1" }] }));
    anthropic.enqueue(
      reply.toolUse("run_code", { code: "print(1)" }),
      reply.toolUse("finish", { summary: "printed 1", code: "print(1)", verdict: "success" }),
    );
    const plannerAt = openai.requests.length;
    const coderAt = anthropic.requests.length;
    const { view } = await runToEnd(stack.api, await createRun(stack.api, { task: "Print 1." }), 60_000);
    expect(view.status).toBe("succeeded");
    for (const system of [systemOf(openai.requests[plannerAt]), systemOf(anthropic.requests[coderAt])]) {
      expect(system).toContain(`pandas ${pandas}`);
      expect(system).toContain("numpy ");
      expect(system).toContain("Agg backend");
    }
  });

  it("describes an agent whose image lacks pandas without it", async () => {
    expect(await pandasOf(stack.apiB)).toBeUndefined();
    anthropic.enqueue(
      reply.toolUse("run_code", { code: "print(1)" }),
      reply.toolUse("finish", { summary: "printed 1", code: "print(1)", verdict: "success" }),
    );
    const coderAt = anthropic.requests.length;
    const { view } = await runToEnd(
      stack.apiB,
      await createRun(stack.apiB, { task: "Print 1.", planner: null }),
      60_000,
    );
    expect(view.status).toBe("succeeded");
    const system = systemOf(anthropic.requests[coderAt]);
    expect(system).toContain("numpy ");
    expect(system).not.toContain("pandas");
  });
});
