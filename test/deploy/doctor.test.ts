import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_BIN, ROOT } from "../../scripts/lib/paths.ts";
import { freePort } from "../../scripts/lib/ports.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { type Finished, runCommand } from "./command.ts";

// `edgeswarm-agent doctor` against the real Worker (wrangler dev) and the real Docker engine.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack("deploy-doctor", 0);
});

afterAll(async () => {
  await stack?.stop();
});

function doctor(args: string[], token: string = TENANTS.a.token): Promise<Finished> {
  return runCommand(
    process.execPath,
    [AGENT_BIN, "doctor", "--url", stack.worker.url, "--id", "deploy-doctor-1", ...args],
    {
      timeoutMs: 60_000,
      cwd: ROOT,
      env: { ...process.env, EDGESWARM_AGENT_TOKEN: token },
    },
  );
}

/** The check's line: `ok    image    ...`. */
function line(run: Finished, status: string, check: string): string | undefined {
  return run.lines.find((l) => l.startsWith(`${status.padEnd(6)}${check.padEnd(9)}`));
}

describe("edgeswarm-agent doctor", () => {
  it("passes every check on a host that can run the agent, and starts no agent", async () => {
    const run = await doctor([]);
    expect(run.code, run.text).toBe(0);
    for (const check of ["node", "docker", "runtime", "image", "worker", "token"]) {
      expect(line(run, "ok", check), `${check} in:\n${run.text}`).toBeDefined();
    }
    expect(line(run, "ok", "image")).toMatch(/edgeswarm\/python:latest \(python, bash\): python 3\.\d+\.\d+, bash \d/);
    expect(line(run, "ok", "image")).toMatch(/Python packages \(.*numpy/);
    expect(run.lines.at(-1)).toBe("all 6 checks passed");
    // It connected and closed without a hello: no agent joined the pool.
    const agents = (await (await stack.api.get("/v1/agents")).json()) as { agents: unknown[] };
    expect(agents.agents).toEqual([]);
  });

  it("names a missing image, says how to build one, and exits 1", async () => {
    const run = await doctor(["--image", "python=edgeswarm/does-not-exist:latest"]);
    expect(run.code, run.text).toBe(1);
    expect(line(run, "fail", "image"), run.text).toMatch(
      /^fail {2}image {4}edgeswarm\/does-not-exist:latest \(python\) is not on this host; fix: build it .*npm run image:offline/,
    );
    // The rest is still checked.
    expect(line(run, "ok", "token"), run.text).toBeDefined();
    expect(run.lines.at(-1)).toBe("1 of 6 checks failed");
  });

  it("says the Worker refused a wrong token, and how to give the right one", async () => {
    const run = await doctor([], "not-a-token-of-this-worker");
    expect(run.code, run.text).toBe(1);
    expect(line(run, "ok", "worker"), run.text).toMatch(/answers: edgeswarm \d/);
    expect(line(run, "fail", "token"), run.text).toMatch(
      /^fail {2}token {4}the Worker refused the agent token: HTTP 401 \(invalid agent token\); fix: set EDGESWARM_AGENT_TOKEN/,
    );
    // The token never shows in what the doctor prints.
    expect(run.text).not.toContain("not-a-token-of-this-worker");
  });

  it("says the Worker's URL does not answer", async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const run = await runCommand(
      process.execPath,
      [AGENT_BIN, "doctor", "--url", nobody, "--image", "python=edgeswarm/does-not-exist:latest"],
      { timeoutMs: 60_000, cwd: ROOT, env: { ...process.env, EDGESWARM_AGENT_TOKEN: TENANTS.a.token } },
    );
    expect(run.code, run.text).toBe(1);
    expect(line(run, "fail", "worker"), run.text).toContain(
      `${nobody} does not answer (ECONNREFUSED); fix: check --url`,
    );
    expect(line(run, "skip", "token"), run.text).toBeDefined();
  });
});
