import { AgentList, type AgentSummary } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSandboxesGone, executionContainerGone } from "../harness/docker.ts";
import { type Stack, startStack } from "../harness/stack.ts";

// End to end: workerd through wrangler, two sandbox agent processes, real Docker.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack("e2e-exec", 2, 1);
});
afterAll(async () => {
  await stack?.stop();
});

describe("POST /v1/executions", () => {
  it("returns stdout, stderr and the exit code exactly", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: 'import sys\nprint("hello, world")\nprint("ünïcödé ✓")\nsys.stderr.write("to stderr\\n")\nsys.exit(3)\n',
    });
    expect(result).toMatchObject({
      status: "failed",
      exitCode: 3,
      signal: null,
      stdout: "hello, world\nünïcödé ✓\n",
      stderr: "to stderr\n",
      truncated: { stdout: false, stderr: false },
    });
    expect(result.id).toMatch(/^ex_[0-9a-f]{24}$/);
    expect(result.agentId).toMatch(/^e2e-exec-/);
    expect(result.durationMs).toBeGreaterThan(0);
    await executionContainerGone(result.id);
  });

  it("returns a Python traceback in stderr, with the failing line", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: "def divide(a, b):\n    return a / b\n\nprint(divide(1, 0))\n",
    });
    expect(result.status).toBe("failed");
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Traceback (most recent call last):");
    expect(result.stderr).toContain("line 2, in divide\n    return a / b");
    expect(result.stderr).toMatch(/ZeroDivisionError: division by zero\n$/);
  });

  it("succeeds with exit code 0", async () => {
    const result = await stack.api.execute({ language: "python", code: "print(sum(range(10)))" });
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "45\n", stderr: "" });
  });

  it("feeds stdin, args and input files, and returns files the code wrote", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: [
        "import sys, json",
        "data = sys.stdin.read()",
        "cfg = json.load(open('config/settings.json'))",
        "raw = open('blob.bin', 'rb').read()",
        "print(data.upper(), sys.argv[1:], cfg['name'], list(raw))",
        "import os",
        "os.makedirs('out', exist_ok=True)",
        "open('out/report.txt', 'w').write('written by the sandbox')",
      ].join("\n"),
      stdin: "piped input",
      args: ["--flag", "two words"],
      files: [
        { path: "config/settings.json", content: '{"name": "edgeswarm"}' },
        { path: "blob.bin", content: Buffer.from([0, 1, 255]).toString("base64"), encoding: "base64" },
      ],
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("PIPED INPUT ['--flag', 'two words'] edgeswarm [0, 1, 255]\n");
    expect(result.files).toEqual([{ path: "out/report.txt", content: "written by the sandbox", encoding: "utf8" }]);
  });

  it("streams output over SSE before the process ends", async () => {
    const events = [];
    for await (const event of stack.api.stream({
      language: "python",
      code: 'import time\nprint("first")\ntime.sleep(1)\nprint("second")\n',
    })) {
      events.push(event);
    }
    expect(events[0]?.type).toBe("started");
    expect(events.at(-1)).toMatchObject({ type: "finished", result: { status: "succeeded", exitCode: 0 } });
    // Chunk boundaries are the program's writes; what matters is the text and when it came.
    const stdout = events.filter((e) => e.type === "stdout");
    expect(stdout.map((e) => e.data).join("")).toBe("first\nsecond\n");
    const arrival = (text: string) => {
      let seen = "";
      for (const e of stdout) {
        seen += e.data;
        if (seen.includes(text)) return e.at;
      }
      throw new Error(`never saw ${JSON.stringify(text)}`);
    };
    // The first line arrived while the process was still sleeping.
    expect(arrival("second\n") - arrival("first\n")).toBeGreaterThan(800);
  });

  it("puts the next execution on the other agent when one is full, and answers 503 at once when both are and it may not wait", async () => {
    // Both agents have capacity 1. Hold one slot on each with a sleeping execution.
    const holds = [new AbortController(), new AbortController()];
    const started: string[] = [];
    const streams = holds.map(async (abort) => {
      const events = stack.api.stream({ language: "python", code: "import time\ntime.sleep(30)" }, abort.signal);
      const first = await events.next();
      if (first.value?.type === "started") started.push(first.value.agentId);
      return events;
    });
    const opened = await Promise.all(streams);
    expect(new Set(started)).toEqual(new Set(["e2e-exec-1", "e2e-exec-2"]));

    const full = await stack.api.raw(
      "/v1/executions",
      JSON.stringify({ language: "python", code: "print(1)", queueTimeoutMs: 0 }),
    );
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("1");
    expect(await full.json()).toMatchObject({ error: { code: "no_capacity" } });

    // Closing the callers cancels their executions and frees both agents.
    for (const abort of holds) abort.abort();
    await Promise.all(opened.map((s) => s.return(undefined).catch(() => {})));
    for (const id of ["e2e-exec-1", "e2e-exec-2"]) await agentSandboxesGone(id, 15_000);
    const after = await stack.api.execute({ language: "python", code: "print('free again')" });
    expect(after.stdout).toBe("free again\n");
  });

  it("lists each agent with the health from its latest heartbeat", async () => {
    // Agents heartbeat every 5 s; the first health report closes the first interval.
    const deadline = performance.now() + 15_000;
    let agents: AgentSummary[] = [];
    while (performance.now() < deadline) {
      agents = AgentList.parse(await (await stack.api.get("/v1/agents")).json()).agents;
      if (agents.every((a) => a.health)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(agents.map((a) => a.id).sort()).toEqual(["e2e-exec-1", "e2e-exec-2"]);
    for (const agent of agents) {
      expect(agent.health).toMatchObject({ warm: expect.any(Number), rssBytes: expect.any(Number) });
      expect(agent.health?.rssBytes).toBeGreaterThan(0);
    }
  });

  it("runs bash", async () => {
    const result = await stack.api.execute({ language: "bash", code: 'echo "args: $*"; exit 4', args: ["a", "b"] });
    expect(result).toMatchObject({ status: "failed", exitCode: 4, stdout: "args: a b\n" });
  });
});
