import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Edgeswarm } from "@edgeswarm/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../client/src/cli/exit-codes.ts";
import { freePort } from "../../scripts/lib/ports.ts";
import { fencedBlocks, markdownFile, markdownSection } from "../harness/markdown.ts";
import { PLOT_CODE, PNG_SIGNATURE, SLOW_PRINT_CODE } from "../harness/programs.ts";
import { type Stack, TENANTS } from "../harness/stack.ts";
import { Cli, cli, REPO } from "./cli-process.ts";
import { type CliSuite, startCliSuite } from "./cli-suite.ts";
import { FIB_CODE, failingCoder, solvingCoder, type startModels } from "./models.ts";

// The `edgeswarm` CLI as a user runs it: the bin that `npm ci` links, spawned
// with the endpoint in its environment, against the real stack.
let stack: Stack;
let models: Awaited<ReturnType<typeof startModels>>;
let swarm: Edgeswarm;
let env: NodeJS.ProcessEnv;
let dir: string;

let suite: CliSuite | undefined;
beforeAll(async () => {
  suite = await startCliSuite("client-cli");
  ({ stack, models, swarm, env, dir } = suite);
});
afterAll(async () => {
  await suite?.stop();
});

/** A run parked on its first approval. */
async function parkedRun(): Promise<string> {
  const { id } = await swarm.runs.create({ task: "Print 55.", planner: null, approval: "always" });
  for await (const e of swarm.runs.events(id)) if (e.type === "approval.requested") break;
  return id;
}

describe("edgeswarm run", () => {
  it("follows a run to success, prints the result and saves code, stdout and files", async () => {
    const code = `${FIB_CODE}open('fib.txt', 'w').write('55')\n`;
    const coder = solvingCoder(code, "prints and saves the 10th Fibonacci number");
    models.anthropic.enqueue(coder, coder);
    const out = join(dir, "fib");
    const r = await cli(["run", "Print the 10th Fibonacci number.", "--out", out, "--timeout-ms", "20000"], { env });
    expect(r.code, r.err).toBe(EXIT_CODES.ok);
    // Not a terminal: one plain line per event.
    expect(r.out).toMatch(/^#1 run\.created {2}task: Print the 10th Fibonacci number\.$/m);
    expect(r.out).toMatch(/^#\d+ plan\.created {2}1 steps: 1\) Compute and print the answer$/m);
    expect(r.out).toMatch(/^#\d+ execution\.finished {2}iteration 1: python succeeded \(exit 0\) in \d/m);
    expect(r.out).toMatch(/^run run_\w+ succeeded after 1 iteration/m);
    expect(r.out).toContain("summary: prints and saves the 10th Fibonacci number");
    expect(await readFile(join(out, "code.py"), "utf8")).toBe(code);
    expect(await readFile(join(out, "stdout.txt"), "utf8")).toBe("55\n");
    expect(await readFile(join(out, "files", "fib.txt"), "utf8")).toBe("55");
    const saved = JSON.parse(await readFile(join(out, "run.json"), "utf8"));
    expect(saved).toMatchObject({ status: "succeeded", result: { stdout: "55\n" } });
  });

  it("saves the PNG a run wrote as its bytes, and prints its path and size", async () => {
    const coder = solvingCoder(PLOT_CODE, "drew a chart");
    models.anthropic.enqueue(coder, coder);
    const out = join(dir, "plot");
    const r = await cli(["run", "Draw a chart.", "--planner", "none", "--out", out], { env });
    expect(r.code, r.err).toBe(EXIT_CODES.ok);
    expect(r.out).toMatch(/^#\d+ execution\.output {2}call_1 stdout\| plot\.png made with (matplotlib|zlib)$/m);
    expect(r.out).toMatch(/^#\d+ execution\.finished {2}iteration 1: .*; wrote plot\.png$/m);
    const png = await readFile(join(out, "files", "plot.png"));
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const { result } = await swarm.runs.get(JSON.parse(await readFile(join(out, "run.json"), "utf8")).id);
    expect(result?.manifest.find((f) => f.path === "plot.png")?.bytes).toBe(png.length);
    // The saved path, whole, with its size as the manifest gives it.
    const size = png.length < 1024 ? `${png.length} B` : `${(png.length / 1024).toFixed(1)} KiB`;
    expect(r.out).toContain(`saved to ${out}:`);
    expect(r.out.split("\n")).toContain(`  ${join(out, "files", "plot.png")}  ${size}`);
  });

  it("exits 1 with the reason when the coder never fixes its code", async () => {
    models.anthropic.setDefault(failingCoder());
    try {
      const r = await cli(
        ["run", "Print a name.", "--planner", "none", "--max-iterations", "2", "--out", join(dir, "x")],
        {
          env,
        },
      );
      expect(r.code, r.out).toBe(EXIT_CODES.failed);
      expect(r.out).toMatch(/execution\.finished {2}iteration 2: python failed \(exit 1\)/);
      expect(r.err).toMatch(/run run_\w+ failed \(max_iterations\): /);
    } finally {
      models.anthropic.setDefault(solvingCoder(FIB_CODE));
    }
  });

  it("--json prints one JSON object per line, ending with the result", async () => {
    const r = await cli(
      ["run", "Print the 10th Fibonacci number.", "--planner", "none", "--json", "--out", join(dir, "j")],
      {
        env,
      },
    );
    expect(r.code, r.err).toBe(EXIT_CODES.ok);
    const lines = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ seq: 1, type: "run.created" });
    expect(lines.at(-2)).toMatchObject({ type: "run.finished", payload: { status: "succeeded" } });
    expect(lines.at(-1)).toMatchObject({
      type: "result",
      run: { status: "succeeded" },
      saved: { dir: join(dir, "j") },
    });
  });

  it("without a terminal, Ctrl-C cancels the run and exits with the cancelled code", async () => {
    const proc = new Cli(["run", "Print 55.", "--planner", "none", "--approval", "always", "--out", join(dir, "c")], {
      env,
    });
    const line = await proc.line(/approval\.requested/, "the run to park for approval");
    const id = /edgeswarm runs approve (run_\w+)/.exec(line)?.[1] ?? "";
    proc.child.kill("SIGINT");
    expect(await proc.code()).toBe(EXIT_CODES.cancelled);
    expect(proc.err).toContain(`cancelling run ${id}`);
    expect(proc.out).toMatch(/run\.finished {2}cancelled/);
    expect((await swarm.runs.get(id)).status).toBe("cancelled");
  });
});

describe("edgeswarm run on a terminal", () => {
  it("redraws a live view, and Ctrl-C asks before cancelling", async () => {
    const proc = new Cli(["run", "Print 55.", "--planner", "none", "--approval", "always", "--out", join(dir, "t")], {
      env: { ...env, TERM: "xterm" },
      tty: true,
    });
    // The view: status line, step and iteration, tokens; redrawn in place (cursor up, clear).
    await proc.text(
      /awaiting_approval[\s\S]*step 1\/1 {2}iteration 0\/8 {2}tokens 10 in \/ 5 out/,
      "the parked view",
      20_000,
    );
    expect(proc.out).toContain("\x1b[J");
    expect(proc.out).not.toMatch(/^#\d+ /m);
    const id = /run (run_\w+) {2}/.exec(proc.out)?.[1] ?? "";

    proc.type("\x03");
    await proc.text(new RegExp(`Cancel run ${id}\\? \\[y/N\\] `), "the cancel prompt", 20_000);
    proc.type("n\r");
    // Declined: the view is drawn again below the prompt, and the run is still parked.
    await proc.text(/\[y\/N\][\s\S]*awaiting_approval[\s\S]*waiting for approval/, "the view drawn again", 20_000);
    expect((await swarm.runs.get(id)).status).toBe("awaiting_approval");

    proc.type("\x03");
    await proc.text(/\[y\/N\][\s\S]*\[y\/N\]/, "the second prompt", 20_000);
    proc.type("y\r");
    expect(await proc.code()).toBe(EXIT_CODES.cancelled);
    expect(proc.out).toMatch(new RegExp(`run ${id} cancelled after 0 iterations`));
    expect((await swarm.runs.get(id)).status).toBe("cancelled");
  });
});

describe("edgeswarm run on a terminal: live output", () => {
  it("shows the running execution's last lines while it runs, then the saved files", async () => {
    const coder = solvingCoder(SLOW_PRINT_CODE, "printed twice");
    models.anthropic.enqueue(coder, coder);
    const out = join(dir, "live");
    const proc = new Cli(["run", "Print, wait, print.", "--planner", "none", "--out", out], {
      env: { ...env, TERM: "xterm" },
      tty: true,
    });
    await proc.text(/▶ call_1 running on [\s\S]*│ first output/, "the first line in the live view", 30_000);
    expect(proc.out).not.toContain("second output");
    expect(await proc.code()).toBe(EXIT_CODES.ok);
    expect(proc.out).toContain(`saved to ${out}:`);
    expect(proc.out).toContain(join(out, "stdout.txt"));
  });
});

describe("edgeswarm runs", () => {
  it("logs --follow prints each event as it happens, before the run ends", async () => {
    const id = await parkedRun();
    const follow = new Cli(["runs", "logs", id, "--follow"], { env });
    // The run is parked: this line can only have come from the live stream of an unfinished run.
    await follow.line(/^#\d+ approval\.requested/, "the approval.requested line");
    expect((await swarm.runs.get(id)).status).toBe("awaiting_approval");
    expect(follow.out).not.toContain("run.finished");

    const approved = await cli(["runs", "approve", id], { env });
    expect(approved).toMatchObject({ code: EXIT_CODES.ok });
    // The one waiting call, named as it is decided.
    expect(approved.out).toContain(`approved call_1: run ${id}`);
    expect(await follow.code()).toBe(EXIT_CODES.ok);
    expect(follow.out).toMatch(/approval\.decided {2}approved/);
    expect(follow.out).toMatch(/run\.finished {2}succeeded$/m);

    // Without --follow: the log so far, the same lines.
    const logs = await cli(["runs", "logs", id], { env });
    expect(logs.out).toBe(follow.out);
    const json = await cli(["runs", "logs", id, "--json"], { env });
    expect(
      json.out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).seq),
    ).toEqual(
      follow.out
        .trim()
        .split("\n")
        .map((_, i) => i + 1),
    );
  });

  it("logs --follow prints a program's output lines while it runs", async () => {
    const coder = solvingCoder(SLOW_PRINT_CODE, "printed twice");
    // The coder's first reply waits until the follower is reading, so the program runs in front of it.
    let following = () => {};
    const followed = new Promise<void>((resolve) => {
      following = resolve;
    });
    models.anthropic.enqueue(async (request) => {
      await followed;
      return typeof coder === "function" ? coder(request) : coder;
    }, coder);
    const { id } = await swarm.runs.create({ task: "Print, wait, print.", planner: null });
    const follow = new Cli(["runs", "logs", id, "--follow"], { env });
    await follow.line(/^#1 run\.created/, "the follower's first line");
    following();
    await follow.line(/^#\d+ execution\.output {2}call_1 stdout\| first output$/, "the program's first line");
    // The program sleeps 2 s before its last line: nothing of its end is printed yet.
    expect(follow.out).not.toContain("execution.finished");
    expect(follow.out).not.toContain("second output");
    expect(follow.out).toMatch(/^#\d+ execution\.started {2}call_1 runs on /m);
    expect(await follow.code()).toBe(EXIT_CODES.ok);
    expect(follow.out).toMatch(/^#\d+ execution\.output {2}call_1 stderr\| a warning$/m);
    expect(follow.out).toMatch(/^#\d+ execution\.output {2}call_1 stdout\| second output$/m);
    expect(follow.out).toMatch(/run\.finished {2}succeeded$/m);
    // The log afterwards prints the same lines.
    expect((await cli(["runs", "logs", id], { env })).out).toBe(follow.out);
  });

  it("approve --deny sends the reason; cancel ends a run; show and ls print it", async () => {
    const denied = await parkedRun();
    const deny = await cli(["runs", "approve", denied, "--deny", "--reason", "too risky", "--json"], { env });
    expect(deny.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(deny.out)).toMatchObject({ id: denied });
    const page = await swarm.runs.eventPage(denied);
    expect(page.events.find((e) => e.type === "approval.decided")).toMatchObject({
      payload: { approve: false, reason: "too risky" },
    });

    const id = await parkedRun();
    const cancel = await cli(["runs", "cancel", id], { env });
    expect(cancel).toMatchObject({ code: EXIT_CODES.ok, out: `run ${id} cancelled\n` });
    const again = await cli(["runs", "cancel", id], { env });
    expect(again.code).toBe(EXIT_CODES.apiError);
    expect(again.err).toContain("invalid_state, HTTP 409");

    const show = await cli(["runs", "show", id], { env });
    expect(show.out).toMatch(/^status: {5}cancelled$/m);
    expect(show.out).toMatch(/^error: {6}cancelled: /m);
    const shown = JSON.parse((await cli(["runs", "show", id, "--json"], { env })).out);
    expect(shown).toMatchObject({ id, status: "cancelled" });

    const ls = await cli(["runs", "ls", "--limit", "2"], { env });
    expect(ls.out.split("\n")[0]).toMatch(/^ID +STATUS +CREATED +TASK$/);
    expect(ls.out).toMatch(new RegExp(`^${id} +cancelled +`, "m"));
    const lsJson = JSON.parse((await cli(["runs", "ls", "--json", "--limit", "2"], { env })).out);
    expect(lsJson.runs.map((r: { id: string }) => r.id)).toEqual([id, denied]);
  });

  it("answers an unknown run with the API error code", async () => {
    const r = await cli(["runs", "show", "run_000000000000000000000000", "--json"], { env });
    expect(r.code).toBe(EXIT_CODES.apiError);
    expect(r.err).toContain("(not_found, HTTP 404)");
    expect(JSON.parse(r.out)).toMatchObject({ error: { code: "not_found", status: 404 } });
  });
});

describe("edgeswarm exec and agents", () => {
  it("runs a program with stdin and a workspace file, streaming output, with its exit code", async () => {
    const script = join(dir, "count.py");
    await writeFile(
      script,
      "import sys\nwords = open('data/words.txt').read().split()\nprint(len(words), sys.stdin.read().strip())\n" +
        "print('to stderr', file=sys.stderr)\nsys.exit(7)\n",
    );
    await writeFile(join(dir, "stdin.txt"), "from a file");
    await import("node:fs/promises").then((fs) => fs.mkdir(join(dir, "data"), { recursive: true }));
    await writeFile(join(dir, "data", "words.txt"), "one two three");
    const r = await cli(["exec", "count.py", "--stdin", "stdin.txt", "--file", "data/words.txt"], { env, cwd: dir });
    expect(r.out).toBe("3 from a file\n");
    expect(r.err).toBe("to stderr\n");
    expect(r.code).toBe(7);

    const piped = await cli(["exec", "count.py", "--stdin", "-", "--file", "data/words.txt", "--json"], {
      env,
      cwd: dir,
      stdin: "from a pipe",
    });
    expect(piped.code).toBe(7);
    expect(JSON.parse(piped.out)).toMatchObject({ status: "failed", exitCode: 7, stdout: "3 from a pipe\n" });
  });

  it("exits 124 when the program times out, and takes limits from flags", async () => {
    const script = join(dir, "sleep.py");
    await writeFile(script, "import time\nprint('start', flush=True)\ntime.sleep(30)\n");
    const r = await cli(["exec", script, "--timeout-ms", "500"], { env });
    expect(r.out).toBe("start\n");
    expect(r.err).toContain("the program ended timed_out");
    expect(r.code).toBe(EXIT_CODES.execTimedOut);
    const bad = await cli(["exec", script, "--memory-mb", "99999"], { env });
    expect(bad.code).toBe(EXIT_CODES.apiError);
    expect(bad.err).toContain("memoryMb must be at most 4096");
  });

  it("agents ls lists the connected agent", async () => {
    const r = await cli(["agents", "ls"], { env });
    expect(r.code).toBe(EXIT_CODES.ok);
    expect(r.out).toMatch(/^client-cli-1 +pool-a +\S+ +\d\/2 +python/m);
    const json = JSON.parse((await cli(["agents", "ls", "--json"], { env })).out);
    expect(json.agents.map((a: { id: string }) => a.id)).toEqual(["client-cli-1"]);
  });
});

describe("edgeswarm: usage and configuration", () => {
  it("refuses unknown commands and flags with exit 2 and a hint", async () => {
    const unknown = await cli(["frobnicate"], { env });
    expect(unknown.code).toBe(EXIT_CODES.usage);
    expect(unknown.err).toContain("unknown command 'frobnicate'");
    expect(unknown.err).toContain("edgeswarm --help");
    const flag = await cli(["runs", "ls", "--nope"], { env });
    expect(flag.code).toBe(EXIT_CODES.usage);
    expect(flag.err).toContain("'--nope'");
    expect(flag.err).toContain("edgeswarm runs ls --help");
    const bad = await cli(["run", "x", "--max-iterations", "many"], { env });
    expect(bad).toMatchObject({ code: EXIT_CODES.usage });
    expect(bad.err).toContain("--max-iterations must be a whole number");
  });

  it("names the variable to set when the URL or key is missing, and reads a config file", async () => {
    const noUrl = await cli(["agents", "ls"], { env: { ...env, EDGESWARM_URL: "" } });
    expect(noUrl.code).toBe(EXIT_CODES.usage);
    expect(noUrl.err).toContain("set EDGESWARM_URL");
    const noKey = await cli(["agents", "ls"], { env: { ...env, EDGESWARM_API_KEY: "" } });
    expect(noKey.err).toContain("set EDGESWARM_API_KEY");

    const config = join(dir, "config.json");
    await writeFile(config, JSON.stringify({ url: stack.worker.url, apiKey: TENANTS.a.key }));
    const fromFile = await cli(["agents", "ls"], {
      env: { ...env, EDGESWARM_URL: "", EDGESWARM_API_KEY: "", EDGESWARM_CONFIG: config },
    });
    expect(fromFile.code, fromFile.err).toBe(EXIT_CODES.ok);
    // A flag beats the environment: a wrong key given as a flag is used, and refused.
    const flag = await cli(["agents", "ls", "--api-key", "wrong-key-00000000"], { env });
    expect(flag.code).toBe(EXIT_CODES.apiError);
    expect(flag.err).toContain("(unauthorized, HTTP 401)");
  });

  it("exits 6 when the API cannot be reached", async () => {
    const r = await cli(["runs", "ls", "--url", `http://127.0.0.1:${await freePort()}`], { env });
    expect(r.code).toBe(EXIT_CODES.unreachable);
    expect(r.err).toContain("ECONNREFUSED");
  });

  it("--help lists every command and the exit codes docs/cli.md documents", async () => {
    const help = await cli(["--help"], { env });
    expect(help.code).toBe(EXIT_CODES.ok);
    for (const c of ["run", "exec", "runs ls", "runs show", "runs logs", "runs cancel", "runs approve", "agents ls"]) {
      expect(help.out).toContain(`  ${c} `);
    }
    const documented = await markdownSection("docs/cli.md", "Exit codes");
    for (const code of [0, 1, 2, 3, 4, 5, 6, 7]) {
      expect(help.out).toMatch(new RegExp(`^  ${code} {4}\\S`, "m"));
      expect(documented).toMatch(new RegExp(`^\\| ${code} \\| \\S`, "m"));
    }
    expect(Object.values(EXIT_CODES).filter((c) => c < 100)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("runs as `npx edgeswarm` from the repository root", async () => {
    const { stdout } = await promisify(execFile)("npx", ["--no-install", "edgeswarm", "--help"], { cwd: REPO, env });
    expect(stdout).toContain("Usage: edgeswarm <command> [flags]");
  });
});

describe("docs/cli.md: the CLI examples", () => {
  it("run as written against the stack", async () => {
    const blocks = fencedBlocks(await markdownFile("docs/cli.md"), "sh");
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const cwd = await mkdtemp(join(tmpdir(), "edgeswarm-readme-cli-"));
    try {
      const script = `set -euo pipefail\n${blocks.join("\n")}`;
      const proc = await new Promise<{ code: number | null; out: string }>((resolve) => {
        execFile("bash", ["-c", script], { cwd, env, timeout: 180_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
        );
      });
      expect(proc.code, proc.out).toBe(0);
      expect(proc.out).toContain("client-cli-1");
      expect(await readFile(join(cwd, "fib", "stdout.txt"), "utf8")).toBe("55\n");
      expect(proc.out).toContain("HELLO FROM STDIN");
      expect(proc.out).toContain("hello\n");
      expect(proc.out).toMatch(/run\.finished {2}succeeded/);
      expect(JSON.parse(await readFile(join(cwd, "runs.json"), "utf8")).runs.length).toBeGreaterThan(0);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
