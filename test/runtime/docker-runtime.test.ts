/**
 * DockerRuntime against the real Docker engine and the real sandbox image: no
 * mocks. Needs /var/run/docker.sock and edgeswarm/python:latest (npm run image:offline).
 */
import { LIMITS, type Limits, newExecutionId, DEFAULT_LIMITS as SHARED_DEFAULT_LIMITS } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DockerRuntime, type DockerRuntimeOptions, loadRunnerSource } from "../../sandbox-agent/src/runtime/docker.ts";
import { LABELS } from "../../sandbox-agent/src/runtime/runtime.ts";
import {
  agentLabel,
  awaitGone,
  docker,
  exists,
  IMAGE,
  newAgentId,
  type RunOptions,
  runOn,
  servedBy,
  sinceNow,
  untilWarm,
  warmContainers,
  within,
} from "./helpers.ts";

const AGENT_ID = newAgentId("rt-test");
const TEST_TIMEOUT = 30_000;

let runnerSource: string;
let runtime: DockerRuntime;
/** Every runtime a test made, so afterEach can close them all. */
let runtimes: DockerRuntime[] = [];

function makeRuntime(
  extra: Partial<Pick<DockerRuntimeOptions, "runnerSource" | "backstopMs" | "warm">> = {},
): DockerRuntime {
  const rt = new DockerRuntime({ docker, agentId: AGENT_ID, runnerSource, ...extra });
  runtimes.push(rt);
  return rt;
}

/** Smaller than the shipped defaults, so a test run stays light; containers are cold (no warm pool). */
const DEFAULT_LIMITS: Limits = { ...SHARED_DEFAULT_LIMITS, timeoutMs: 10_000, memoryMb: 128, pids: 64 };

function run(code: string, opts: RunOptions & { rt?: DockerRuntime } = {}) {
  return runOn(opts.rt ?? runtime, DEFAULT_LIMITS, code, opts);
}

/** A container labelled as this agent's, as an earlier life of it would have left. */
function leftover(opts: { running?: boolean; agentId?: string } = {}) {
  return docker
    .createContainer({
      name: `edgeswarm-${newExecutionId()}`,
      Image: IMAGE,
      Entrypoint: ["sleep"],
      Cmd: ["300"],
      Labels: { [LABELS.managed]: "true", [LABELS.agent]: opts.agentId ?? AGENT_ID },
      HostConfig: { NetworkMode: "none" },
    })
    .then(async (c) => {
      if (opts.running) await c.start();
      return c;
    });
}

beforeAll(async () => {
  await docker.ping();
  await docker.getImage(IMAGE).inspect(); // a clear failure here beats thirty confusing ones
  runnerSource = await loadRunnerSource();
  runtime = makeRuntime();
});

afterEach(async () => {
  await Promise.all(runtimes.map((rt) => rt.close()));
  runtimes = [];
  runtime = makeRuntime();
  await awaitGone(agentLabel(AGENT_ID));
});

afterAll(async () => {
  await Promise.all(runtimes.map((rt) => rt.close()));
  await awaitGone(agentLabel(AGENT_ID));
  expect(await docker.listContainers({ all: true, filters: { label: [agentLabel(AGENT_ID)] } })).toEqual([]);
});

describe("DockerRuntime (real Docker)", { timeout: TEST_TIMEOUT }, () => {
  it("reports stdout, stderr and the exit code exactly", async () => {
    const r = await run('import sys\nprint("hello")\nprint("oops", file=sys.stderr)\nsys.exit(3)');
    expect(r.stdout).toBe("hello\n");
    expect(r.stderr).toBe("oops\n");
    expect(r.outcome).toMatchObject({ status: "failed", exitCode: 3, signal: null, files: [] });
    expect(r.outcome.truncated).toEqual({ stdout: false, stderr: false });
    expect(r.outcome.error).toBeUndefined();
    console.info(`trivial run: durationMs ${r.outcome.durationMs}, end to end ${Math.round(r.wallMs)} ms`);
  });

  it("succeeds with exit code 0", async () => {
    const r = await run('print("fine")');
    expect(r.outcome).toMatchObject({ status: "succeeded", exitCode: 0, signal: null });
    expect(r.stdout).toBe("fine\n");
    console.info(`trivial run: durationMs ${r.outcome.durationMs}, end to end ${Math.round(r.wallMs)} ms`);
  });

  it("runs at the smallest limits a request may ask for", async () => {
    // Every minimum but the timeout's: 100 ms is less than a cold start at 0.1 CPU.
    const smallest = Object.fromEntries(
      Object.entries(LIMITS).map(([name, bounds]) => [name, bounds.min]),
    ) as unknown as Limits;
    const r = await run(
      "import resource\nprint('small', resource.getrlimit(resource.RLIMIT_NOFILE), resource.getrlimit(resource.RLIMIT_FSIZE))",
      { limits: { ...smallest, timeoutMs: DEFAULT_LIMITS.timeoutMs } },
    );
    expect(r.stderr).toBe("");
    expect(r.outcome.status).toBe("succeeded");
    const { openFiles, fileSizeMb } = LIMITS;
    const fsize = fileSizeMb.min * 1024 * 1024;
    expect(r.stdout).toBe(`small (${openFiles.min}, ${openFiles.min}) (${fsize}, ${fsize})\n`);
  });

  it("puts a Python traceback on stderr", async () => {
    const r = await run('def f():\n    raise ValueError("boom")\nf()');
    expect(r.outcome).toMatchObject({ status: "failed", exitCode: 1 });
    expect(r.stderr).toContain("Traceback (most recent call last):");
    expect(r.stderr).toContain('File "/workspace/main.py", line 2, in f');
    expect(r.stderr).toMatch(/ValueError: boom\n$/);
    expect(r.stdout).toBe("");
  });

  it("feeds stdin, arguments, env and input files", async () => {
    const r = await run(
      [
        "import sys, os",
        "print(repr(sys.stdin.read()))",
        "print(sys.argv[1:])",
        "print(os.environ['GREETING'])",
        "print(open('data/in.txt').read())",
        "print(list(open('bin.dat', 'rb').read()))",
      ].join("\n"),
      {
        stdin: "line 1\nline 2 é\n",
        args: ["a b", "--flag"],
        env: { GREETING: "bonjour" },
        files: [
          { path: "data/in.txt", content: "input text ✓", encoding: "utf8" },
          { path: "bin.dat", content: Buffer.from([0, 255, 7]).toString("base64"), encoding: "base64" },
        ],
      },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("'line 1\\nline 2 é\\n'\n['a b', '--flag']\nbonjour\ninput text ✓\n[0, 255, 7]\n");
    expect(r.outcome.status).toBe("succeeded");
    expect(r.outcome.files).toEqual([]); // unchanged inputs and main.py are not returned
  });

  it("returns new and changed files, text as utf8 and binary as base64", async () => {
    const r = await run(
      [
        "import os",
        "os.makedirs('out')",
        "open('out/result.txt', 'w').write('done ✓')",
        "open('out/blob.bin', 'wb').write(bytes([0xff, 0, 0x80]))",
        "open('notes.txt', 'a').write(' more')",
        "os.symlink('/etc/passwd', 'link')",
        "os.mkfifo('fifo')",
      ].join("\n"),
      { files: [{ path: "notes.txt", content: "start", encoding: "utf8" }] },
    );
    expect(r.stderr).toBe("");
    expect(r.outcome.status).toBe("succeeded");
    expect(r.outcome.files).toEqual([
      { path: "notes.txt", content: "start more", encoding: "utf8" },
      { path: "out/blob.bin", content: Buffer.from([0xff, 0, 0x80]).toString("base64"), encoding: "base64" },
      { path: "out/result.txt", content: "done ✓", encoding: "utf8" },
    ]);
    expect(r.outcome.error).toBeUndefined();
  });

  it("skips a returned file whose name the API cannot carry, and says so", async () => {
    const r = await run("open('bad\\nname', 'w').write('x')\nopen('good', 'w').write('y')");
    expect(r.outcome.status).toBe("succeeded");
    expect(r.outcome.files).toEqual([{ path: "good", content: "y", encoding: "utf8" }]);
    expect(r.outcome.error?.message).toMatch(/not returned/);
  });

  it("moves megabytes through stdin and a returned file sent in several frames", async () => {
    const stdin = "0123456789abcdef".repeat(128 * 1024); // 2 MiB
    const r = await run(
      "import sys\ndata = sys.stdin.buffer.read()\nprint(len(data))\nopen('copy.bin', 'wb').write(data[:1536 * 1024] + b'\\xff')",
      {
        stdin,
      },
    );
    expect(r.stdout).toBe(`${2 * 1024 * 1024}\n`);
    expect(r.outcome.files).toHaveLength(1);
    const [file] = r.outcome.files;
    expect(file?.encoding).toBe("base64");
    expect(
      Buffer.from(file?.content ?? "", "base64").equals(Buffer.from(`${stdin.slice(0, 1536 * 1024)}\xff`, "latin1")),
    ).toBe(true);
  });

  it("keeps concurrent executions apart", async () => {
    const runs = await Promise.all([0, 1, 2].map((i) => run(`print(${i})\nopen('f', 'w').write('${i}')`)));
    runs.forEach((r, i) => {
      expect(r.stdout).toBe(`${i}\n`);
      expect(r.outcome.files).toEqual([{ path: "f", content: `${i}`, encoding: "utf8" }]);
    });
  });

  it("times out an infinite loop near timeoutMs", async () => {
    const r = await run("while True:\n    pass", { limits: { timeoutMs: 1000 } });
    expect(r.outcome).toMatchObject({ status: "timed_out", exitCode: null, signal: "SIGKILL" });
    expect(r.outcome.durationMs).toBeGreaterThanOrEqual(1000);
    expect(r.outcome.durationMs).toBeLessThan(1500);
    console.info(`timeout 1000 ms: durationMs ${r.outcome.durationMs}, end to end ${Math.round(r.wallMs)} ms`);
  });

  it("reports a memory bomb as oom_killed, with the runner surviving it", async () => {
    const r = await run(
      "open('marker', 'w').write('m')\nchunks = []\nwhile True:\n    chunks.append(b'x' * (1 << 20))",
      {
        limits: { memoryMb: 64 },
      },
    );
    expect(r.outcome).toMatchObject({ status: "oom_killed", exitCode: null, signal: "SIGKILL" });
    // Only a live runner returns files: the OOM killer took the program, not PID 1.
    expect(r.outcome.files).toEqual([{ path: "marker", content: "m", encoding: "utf8" }]);
  });

  it("caps a print flood at exactly outputBytes and kills it", async () => {
    const r = await run("while True:\n    print('flood' * 100)", { limits: { outputBytes: 4096 } });
    expect(r.outcome.status).toBe("output_limited");
    expect(Buffer.byteLength(r.stdout)).toBe(4096);
    expect(r.outcome.truncated).toEqual({ stdout: true, stderr: false });
  });

  it("decodes invalid UTF-8 as U+FFFD and keeps a character split across writes", async () => {
    const r = await run(
      [
        "import os, time",
        "os.write(1, b'ok \\xff\\xfe end\\n')",
        "os.write(1, '€'.encode()[:2])",
        "os.write(1, '€'.encode()[2:] + b'\\n')",
        "os.write(1, b'cut \\xe2\\x82')",
      ].join("\n"),
    );
    expect(r.stdout).toBe("ok \uFFFD\uFFFD end\n€\ncut \uFFFD");
  });

  it("runs as nobody, without capabilities, on a read-only root", async () => {
    const r = await run(
      [
        "import os, resource",
        "print(os.getuid(), os.getgid())",
        "status = dict(l.split(':\\t') for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)",
        "print(status['CapEff'], status['NoNewPrivs'])",
        "print(resource.getrlimit(resource.RLIMIT_NOFILE))",
        "try:\n    open('/evil', 'w')\nexcept OSError as e:\n    print(e.strerror)",
        "open('/tmp/t', 'w').write('ok')",
      ].join("\n"),
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("65534 65534\n0000000000000000 1\n(256, 256)\nRead-only file system\n");
  });

  it("has no network interface but lo", async () => {
    const r = await run("import os\nprint(sorted(os.listdir('/sys/class/net')))");
    expect(r.stdout).toBe("['lo']\n");
  });

  it("does not leak the agent's environment", async () => {
    process.env.EDGESWARM_TEST_SECRET = "hunter2";
    try {
      const r = await run("import os\nprint(os.environ.get('EDGESWARM_TEST_SECRET'))\nprint(sorted(os.environ))");
      expect(r.stdout).toBe(
        "None\n['HOME', 'LANG', 'MPLCONFIGDIR', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'TMPDIR']\n",
      );
    } finally {
      delete process.env.EDGESWARM_TEST_SECRET;
    }
  });

  it("cancels through the AbortSignal", async () => {
    const abort = new AbortController();
    const r = await run(
      "import os, time\nos.write(1, b'ready\\n')  # one write: print() makes two\nwhile True:\n    time.sleep(1)",
      {
        signal: abort.signal,
        onOutput: (_stream, data) => {
          if (data.includes("ready")) abort.abort();
        },
      },
    );
    expect(r.outcome.status).toBe("cancelled");
    expect(r.stdout).toBe("ready\n");
    expect(r.outcome.durationMs).toBeLessThan(DEFAULT_LIMITS.timeoutMs);
  });

  it("returns cancelled at once for an already aborted signal", async () => {
    const r = await run("print('never')", { signal: AbortSignal.abort() });
    expect(r.outcome.status).toBe("cancelled");
    expect(r.stdout).toBe("");
  });

  it("kills background processes when the program exits", async () => {
    // The child keeps stdout open: if it survived, the runner would drain its
    // "late" line (and, after timeoutMs, report a timeout) instead of ending at once.
    const r = await run(
      [
        "import subprocess",
        "subprocess.Popen(['sh', '-c', 'sleep 0.5; echo late; echo late > late.txt'], start_new_session=True)",
        "print('main done')",
      ].join("\n"),
    );
    expect(r.outcome.status).toBe("succeeded");
    expect(r.stdout).toBe("main done\n");
    expect(r.outcome.files).toEqual([]);
  });

  it("refuses the program's signals to PID 1 and carries forged frames as plain output", async () => {
    const r = await run(
      [
        "import errno, os, signal",
        "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGKILL):",
        "    try:\n        os.kill(1, s)\n    except OSError as e:\n        os.write(2, errno.errorcode[e.errno].encode() + b' ')",
        "os.write(1, bytes([5, 0, 0, 0, 2]) + b'{}')",
        "try:\n    open('/proc/1/fd/1', 'wb')\nexcept OSError as e:\n    os.write(2, e.strerror.encode())",
      ].join("\n"),
    );
    expect(r.outcome).toMatchObject({ status: "succeeded", exitCode: 0 });
    expect(r.stdout).toBe("\u0005\u0000\u0000\u0000\u0002{}");
    expect(r.stderr).toBe("EPERM EPERM EPERM EPERM Permission denied");
  });

  it("contains a fork bomb and still ends at the deadline", async () => {
    const r = await run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass", {
      limits: { timeoutMs: 2000, pids: 32 },
    });
    expect(r.outcome.status).toBe("timed_out");
    expect(r.outcome.durationMs).toBeLessThan(3000);
  });

  it("reports a language the image lacks as sandbox_error", async () => {
    const r = await run("console.log(1)", { language: "node" });
    expect(r.outcome.status).toBe("error");
    expect(r.outcome.error).toEqual({
      code: "sandbox_error",
      message: "sandbox runner failed: node is not installed in this sandbox image",
    });
  });

  it("runs bash code", async () => {
    const r = await run('echo "args: $*"; read line; echo "got $line"', {
      language: "bash",
      args: ["x", "y"],
      stdin: "hello\n",
    });
    expect(r.stdout).toBe("args: x y\ngot hello\n");
    expect(r.outcome.status).toBe("succeeded");
  });

  it("reports a missing image as sandbox_error naming the fix", async () => {
    const r = await run("print(1)", { image: "edgeswarm/does-not-exist:latest" });
    expect(r.outcome.status).toBe("error");
    expect(r.outcome.error).toEqual({
      code: "sandbox_error",
      message: "image edgeswarm/does-not-exist:latest not found; build it with npm run image:offline",
    });
  });

  it("reports a runner that dies without a result as sandbox_error", async () => {
    const rt = makeRuntime({ runnerSource: "import sys\nsys.stderr.write('runner gave up\\n')\nsys.exit(3)" });
    const r = await run("print(1)", { rt });
    expect(r.outcome.status).toBe("error");
    expect(r.outcome.error?.code).toBe("sandbox_error");
    expect(r.outcome.error?.message).toBe(
      "sandbox runner ended without a result (container exit code 3): runner gave up",
    );
  });

  it("reports a runner killed by the OOM killer as oom_killed (Docker's own record)", async () => {
    const rt = makeRuntime({ runnerSource: "chunks = []\nwhile True:\n    chunks.append(b'x' * (1 << 20))" });
    const r = await run("print(1)", { rt, limits: { memoryMb: 32 } });
    expect(r.outcome.status).toBe("oom_killed");
  });

  it("kills a runner that never reports, at the wall-clock backstop", async () => {
    const rt = makeRuntime({ runnerSource: "import time\ntime.sleep(3600)", backstopMs: 500 });
    const r = await run("print(1)", { rt, limits: { timeoutMs: 500 } });
    expect(r.outcome.status).toBe("timed_out");
    expect(r.wallMs).toBeLessThan(DEFAULT_LIMITS.timeoutMs);
  });

  it("names a cold container after its execution", async () => {
    const since = sinceNow();
    const r = await run("print('named')");
    expect(r.stdout).toBe("named\n");
    const served = await servedBy(AGENT_ID, r.executionId, since);
    expect(served.warmName).toBeUndefined(); // created with its name: no warm pool here
  });

  it("reaps containers left behind under this agent id, and no other agent's", async () => {
    const stopped = await leftover();
    const running = await leftover({ running: true });
    const foreign = await leftover({ agentId: `${AGENT_ID}-other` });
    try {
      expect(await runtime.reap()).toBe(2);
      expect(await exists(stopped.id)).toBe(false);
      expect(await exists(running.id)).toBe(false);
      expect(await exists(foreign.id)).toBe(true);
      expect(await runtime.reap()).toBe(0);
    } finally {
      await foreign.remove({ force: true });
    }
  });

  it("reap spares the containers the runtime holds (running and warm) and removes the others", async () => {
    const rt = makeRuntime({ warm: { [IMAGE]: 2 } });
    await untilWarm(rt, AGENT_ID, 2);
    const since = sinceNow();
    const abort = new AbortController();
    const waitReady = () => {
      const ready = Promise.withResolvers<void>();
      return {
        ready: within(ready.promise, 15_000, "the program to print ready"),
        onOutput: (_stream: string, data: string) => data.includes("ready") && ready.resolve(),
      };
    };
    const program = "import os, time\nos.write(1, b'ready\\n')\ntime.sleep(60)";
    // One execution on a warm container (the shipped defaults), one cold (this suite's smaller limits).
    const [warmId, coldId] = [newExecutionId(), newExecutionId()];
    const warmWait = waitReady();
    const onWarm = run(program, {
      rt,
      executionId: warmId,
      limits: { ...SHARED_DEFAULT_LIMITS, timeoutMs: 20_000 },
      signal: abort.signal,
      onOutput: warmWait.onOutput,
    });
    const coldWait = waitReady();
    const onCold = run(program, {
      rt,
      executionId: coldId,
      limits: { timeoutMs: 20_000 },
      signal: abort.signal,
      onOutput: coldWait.onOutput,
    });
    await Promise.all([warmWait.ready, coldWait.ready]);
    await untilWarm(rt, AGENT_ID, 2); // refilled: no creation in flight while reap lists
    const [warmServed, coldServed] = await Promise.all([
      servedBy(AGENT_ID, warmId, since),
      servedBy(AGENT_ID, coldId, since),
    ]);
    expect(warmServed.warmName).toMatch(/^edgeswarm-warm-/);
    expect(coldServed.warmName).toBeUndefined();
    const idle = await warmContainers(AGENT_ID);
    expect(idle).toHaveLength(2);
    const stale = await leftover({ running: true });

    expect(await rt.reap()).toBe(1);
    expect(await exists(stale.id)).toBe(false);
    for (const id of [warmServed.id, coldServed.id, ...idle]) {
      expect((await docker.getContainer(id).inspect()).State.Running).toBe(true);
    }
    expect(rt.warm).toBe(2);

    abort.abort();
    const [warmRun, coldRun] = await Promise.all([onWarm, onCold]);
    expect(warmRun.outcome.status).toBe("cancelled");
    expect(coldRun.outcome.status).toBe("cancelled");
    expect(warmRun.stdout).toBe("ready\n");
    expect(coldRun.stdout).toBe("ready\n");
  });
});
