/**
 * DockerRuntime's warm pool against the real Docker engine and the real
 * sandbox image: no mocks. Containers are created, attached and started ahead
 * of requests (named edgeswarm-warm-<hex>), each serves one execution (renamed
 * edgeswarm-<executionId>) and is then removed; inside each, the runner has a
 * Python interpreter pre-started for the request.
 */
import { release } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_LIMITS, type Limits } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DockerRuntime, type DockerRuntimeOptions, loadRunnerSource } from "../../sandbox-agent/src/runtime/docker.ts";
import {
  agentLabel,
  awaitDestroyed,
  awaitGone,
  docker,
  exists,
  IMAGE,
  newAgentId,
  type Run,
  type RunOptions,
  runOn,
  type Served,
  servedBy,
  sinceNow,
  untilWarm,
  warmContainers,
} from "./helpers.ts";

const AGENT_ID = newAgentId("warm-test");
const POOL_SIZE = 2;
const MISSING_IMAGE = "edgeswarm/does-not-exist:latest";
const MiB = 1024 * 1024;
/** The shipped defaults, which warm containers are made for; timeoutMs is not a container limit. */
const LIMITS: Limits = { ...DEFAULT_LIMITS, timeoutMs: 10_000 };

let runnerSource: string;
/** The runtime most tests share: its pool carries over from test to test. */
let rt: DockerRuntime;
/** Runtimes a single test made; afterEach closes them. */
let extra: DockerRuntime[] = [];

function makeRuntime(options: Partial<DockerRuntimeOptions>): DockerRuntime {
  const runtime = new DockerRuntime({ docker, agentId: AGENT_ID, runnerSource, ...options });
  extra.push(runtime);
  return runtime;
}

function run(code: string, opts: RunOptions & { rt?: DockerRuntime } = {}): Promise<Run> {
  return runOn(opts.rt ?? rt, LIMITS, code, opts);
}

/** Runs once the shared pool is full, checks a warm container served it, and says which. */
async function runWarm(code: string, opts: RunOptions = {}): Promise<Run & { served: Served }> {
  await untilWarm(rt, AGENT_ID, POOL_SIZE);
  const since = sinceNow();
  const r = await run(code, opts);
  const served = await servedBy(AGENT_ID, r.executionId, since);
  expect(served.warmName, `the container of ${r.executionId} was a warm one`).toMatch(/^edgeswarm-warm-/);
  return { ...r, served };
}

/** The PYTHON* variable that sends a Python execution to a freshly exec'd interpreter, with no other effect. */
const FRESH = { PYTHONHASHSEED: "random" };

beforeAll(async () => {
  await docker.ping();
  await docker.getImage(IMAGE).inspect();
  runnerSource = await loadRunnerSource();
  rt = new DockerRuntime({ docker, agentId: AGENT_ID, runnerSource, warm: { [IMAGE]: POOL_SIZE } });
});

afterEach(async () => {
  await Promise.all(extra.map((runtime) => runtime.close()));
  extra = [];
});

afterAll(async () => {
  await rt.close();
  await awaitGone(agentLabel(AGENT_ID));
  expect(await docker.listContainers({ all: true, filters: { label: [agentLabel(AGENT_ID)] } })).toEqual([]);
});

describe("DockerRuntime warm pool (real Docker)", { timeout: 60_000 }, () => {
  it("fills the pool to its size with started containers, and no more", async () => {
    await untilWarm(rt, AGENT_ID, POOL_SIZE);
    const all = await docker.listContainers({ all: true, filters: { label: [agentLabel(AGENT_ID)] } });
    expect(all).toHaveLength(POOL_SIZE);
    for (const c of all) {
      expect(c.Names).toEqual([expect.stringMatching(/^\/edgeswarm-warm-[0-9a-f]{12}$/)]);
      expect(c.State).toBe("running");
      const info = await docker.getContainer(c.Id).inspect();
      expect(info.HostConfig.Memory).toBe(DEFAULT_LIMITS.memoryMb * MiB); // made for the default limits
      expect(info.HostConfig.PidsLimit).toBe(DEFAULT_LIMITS.pids);
    }
    expect(rt.warm).toBe(POOL_SIZE);
  });

  it("serves an execution from a warm container that existed before the request, then refills", async () => {
    await untilWarm(rt, AGENT_ID, POOL_SIZE);
    const before = await warmContainers(AGENT_ID);
    expect(before).toHaveLength(POOL_SIZE);
    const since = sinceNow();
    const r = await run("print(open('/sys/fs/cgroup/memory/memory.limit_in_bytes').read().strip())");
    expect(r.stderr).toBe("");
    expect(r.outcome).toMatchObject({ status: "succeeded", exitCode: 0 });
    expect(r.stdout).toBe(`${DEFAULT_LIMITS.memoryMb * MiB}\n`);
    const served = await servedBy(AGENT_ID, r.executionId, since);
    expect(before).toContain(served.id);
    expect(served.warmName).toMatch(/^edgeswarm-warm-[0-9a-f]{12}$/);
    await awaitDestroyed(served.id); // used once, then removed
    await untilWarm(rt, AGENT_ID, POOL_SIZE);
    const after = await warmContainers(AGENT_ID);
    expect(after).toHaveLength(POOL_SIZE);
    expect(after).not.toContain(served.id);
    expect(after.filter((id) => !before.includes(id))).toHaveLength(1); // one new container replaced it
    console.info(`warm run: durationMs ${r.outcome.durationMs}, end to end ${Math.round(r.wallMs)} ms`);
  });

  it("serves a request with other container limits from a new container, leaving the pool alone", async () => {
    await untilWarm(rt, AGENT_ID, POOL_SIZE);
    const before = await warmContainers(AGENT_ID);
    const since = sinceNow();
    const r = await run("print(open('/sys/fs/cgroup/memory/memory.limit_in_bytes').read().strip())", {
      limits: { memoryMb: 64 },
    });
    expect(r.outcome.status).toBe("succeeded");
    expect(r.stdout).toBe(`${64 * MiB}\n`);
    const served = await servedBy(AGENT_ID, r.executionId, since);
    expect(served.warmName).toBeUndefined(); // created with the execution's name
    expect(before).not.toContain(served.id);
    expect((await warmContainers(AGENT_ID)).sort()).toEqual([...before].sort());
    expect(rt.warm).toBe(POOL_SIZE);
  });

  it("leaves nothing of one execution to the next: files, background processes, environment", async () => {
    const first = await runWarm(
      [
        "import os",
        "for d in ('/workspace', '/tmp', '/dev/shm'):",
        "    open(f'{d}/left.txt', 'w').write('left')",
        "os.environ['EDGESWARM_LEFT'] = 'yes'  # exported: children inherit it",
        "r, w = os.pipe()",
        "if os.fork() == 0:",
        "    os.setsid()",
        "    if os.fork() == 0:",
        "        os.execvp('sleep', ['sleep', '3001'])  # exec closes w (close-on-exec)",
        "    os._exit(0)",
        "os.close(w)",
        "os.wait()",
        "os.read(r, 1)  # end of file: the grandchild has exec'd sleep",
        "cmdlines = [open(f'/proc/{p}/cmdline', 'rb').read() for p in os.listdir('/proc') if p.isdigit()]",
        "print('sleeper running:', b'sleep\\x003001\\x00' in cmdlines)",
        "print(sorted(os.listdir('/tmp')), sorted(os.listdir('/dev/shm')))",
      ].join("\n"),
    );
    expect(first.stderr).toBe("");
    // /tmp/matplotlib: the font list the runner of each new container copies there.
    expect(first.stdout).toBe("sleeper running: True\n['left.txt', 'matplotlib'] ['left.txt']\n");
    expect(first.outcome.files).toEqual([{ path: "left.txt", content: "left", encoding: "utf8" }]);

    const second = await runWarm(
      [
        "import os",
        "procs = []",
        "for p in os.listdir('/proc'):",
        "    if p.isdigit():",
        "        try:",
        "            procs.append(open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\\0', b' ').decode())",
        "        except OSError:",
        "            pass",
        "print(sorted(os.listdir('/workspace')), os.listdir('/tmp'), os.listdir('/dev/shm'))",
        "print(os.environ.get('EDGESWARM_LEFT'))",
        "print([c for c in procs if 'sleep' in c])",
      ].join("\n"),
    );
    expect(second.stderr).toBe("");
    expect(second.stdout).toBe("['main.py'] ['matplotlib'] []\nNone\n[]\n");
    expect(second.outcome.files).toEqual([]);
    expect(first.served.warmName).toBeDefined();
    expect(second.served.warmName).toBeDefined();
    expect(second.served.id).not.toBe(first.served.id);
  });

  describe("the pre-started Python interpreter", () => {
    it("takes a Python execution on a warm container; a PYTHON* variable gets a fresh one", async () => {
      const code = "import sys\nprint(sys.orig_argv[:2])";
      const stub = await runWarm(code);
      expect(stub.served.warmName).toBeDefined();
      expect(stub.stdout).toBe("['python3', '-c']\n"); // the interpreter that was waiting
      const fresh = await runWarm(code, { env: FRESH });
      expect(fresh.served.warmName).toBeDefined();
      expect(fresh.stdout).toBe("['python3', 'main.py']\n");
    });

    it("runs main.py as `python3 main.py` would: name, file, argv, path, cwd, environment", async () => {
      const code = [
        "import json, os, subprocess, sys",
        "child = subprocess.run(['sh', '-c', 'printf %s \"$GREETING\"'], capture_output=True, text=True).stdout",
        "print(json.dumps({",
        "    'name': __name__,",
        "    'file': __file__,",
        "    'main': sys.modules['__main__'].__file__,",
        "    'argv': sys.argv,",
        "    'path0': sys.path[0],",
        "    'cwd': os.getcwd(),",
        "    'greeting': os.environ.get('GREETING'),",
        "    'child': child,",
        "    'env': sorted(k for k in os.environ if k != 'PYTHONHASHSEED'),",
        "}))",
      ].join("\n");
      const opts = { args: ["a b", "--flag"], env: { GREETING: "bonjour" } };
      const r = await runWarm(code, opts);
      expect(r.stderr).toBe("");
      expect(r.outcome).toMatchObject({ status: "succeeded", exitCode: 0 });
      expect(JSON.parse(r.stdout)).toEqual({
        name: "__main__",
        file: "/workspace/main.py",
        main: "/workspace/main.py",
        argv: ["main.py", "a b", "--flag"],
        path0: "/workspace",
        cwd: "/workspace",
        greeting: "bonjour",
        child: "bonjour",
        env: [
          "GREETING",
          "HOME",
          "LANG",
          "MPLCONFIGDIR",
          "PATH",
          "PYTHONDONTWRITEBYTECODE",
          "PYTHONUNBUFFERED",
          "TMPDIR",
        ],
      });
      const fresh = await runWarm(code, { ...opts, env: { ...opts.env, ...FRESH } });
      expect(fresh.stdout).toBe(r.stdout);
    });

    it("prints a traceback of main.py's frames only for an uncaught exception, and exits 1", async () => {
      const code = [
        "def outer():",
        "    inner()",
        "",
        "def inner():",
        "    raise ValueError('boom')",
        "",
        "print('before')",
        "outer()",
      ].join("\n");
      const r = await runWarm(code);
      expect(r.outcome).toMatchObject({ status: "failed", exitCode: 1, signal: null });
      expect(r.stdout).toBe("before\n");
      expect(r.stderr.startsWith("Traceback (most recent call last):\n")).toBe(true);
      const frames = [...r.stderr.matchAll(/^ {2}File "([^"]*)", line (\d+), in (\S+)$/gm)].map((m) => m.slice(1));
      expect(frames).toEqual([
        ["/workspace/main.py", "8", "<module>"],
        ["/workspace/main.py", "2", "outer"],
        ["/workspace/main.py", "5", "inner"],
      ]);
      expect(r.stderr).not.toContain("<string>");
      expect(r.stderr).not.toContain("edgeswarm");
      expect(r.stderr).toMatch(/\nValueError: boom\n$/);
      const fresh = await runWarm(code, { env: FRESH });
      expect(fresh.stderr).toBe(r.stderr);
      expect(fresh.outcome.exitCode).toBe(1);
    });

    it("reports a syntax error in main.py as python3 would", async () => {
      const code = "print('never')\nx = (\n";
      const r = await runWarm(code);
      expect(r.outcome).toMatchObject({ status: "failed", exitCode: 1 });
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain('File "/workspace/main.py", line 2');
      expect(r.stderr).toMatch(/SyntaxError: .*\n$/);
      expect(r.stderr).not.toContain("<string>");
      const fresh = await runWarm(code, { env: FRESH });
      expect(fresh.stderr).toBe(r.stderr);
    });

    it("exits with sys.exit's code, after joining non-daemon threads and running atexit handlers", async () => {
      const code = [
        "import atexit, sys, threading, time",
        "def late():",
        "    time.sleep(0.3)",
        "    print('thread finished', flush=True)",
        "threading.Thread(target=late).start()",
        "atexit.register(print, 'atexit ran')",
        "print('main done')",
        "sys.exit(3)",
      ].join("\n");
      const r = await runWarm(code);
      expect(r.stderr).toBe("");
      expect(r.outcome).toMatchObject({ status: "failed", exitCode: 3, signal: null });
      expect(r.stdout).toBe("main done\nthread finished\natexit ran\n");
      const fresh = await runWarm(code, { env: FRESH });
      expect(fresh.stdout).toBe(r.stdout);
      expect(fresh.outcome.exitCode).toBe(3);
    });

    it("gives a request that sets PYTHONHASHSEED a fresh interpreter that honours it", async () => {
      const code = "print(hash('edgeswarm'))";
      const seeded = [
        await runWarm(code, { env: { PYTHONHASHSEED: "0" } }),
        await runWarm(code, { env: { PYTHONHASHSEED: "0" } }),
      ];
      const random = [await runWarm(code), await runWarm(code)];
      for (const r of [...seeded, ...random]) {
        expect(r.outcome.status).toBe("succeeded");
        expect(r.stdout).toMatch(/^-?\d+\n$/);
        expect(r.served.warmName).toBeDefined();
      }
      expect(seeded[1]?.stdout).toBe(seeded[0]?.stdout);
      expect(random[1]?.stdout).not.toBe(random[0]?.stdout); // randomised: the seed above mattered
    });
  });

  it("runs bash on a warm container, without keeping the pre-started interpreter", async () => {
    const r = await runWarm(
      [
        'echo "args: $*"',
        "read line",
        'echo "got $line"',
        "n=0",
        "for p in /proc/[0-9]*; do",
        '  [ "$p" = /proc/1 ] && continue',
        '  case "$(tr "\\0" " " < "$p/cmdline" 2>/dev/null)" in python3*) n=$((n + 1));; esac',
        "done",
        'echo "other python processes: $n"',
      ].join("\n"),
      { language: "bash", args: ["x", "y"], stdin: "hello\n" },
    );
    expect(r.stderr).toBe("");
    expect(r.outcome).toMatchObject({ status: "succeeded", exitCode: 0 });
    expect(r.stdout).toBe("args: x y\ngot hello\nother python processes: 0\n");
    expect(r.served.warmName).toBeDefined();
  });

  describe("per-request limits on a warm container", () => {
    it("applies openFiles and fileSizeMb to the program", async () => {
      const r = await runWarm(
        [
          "import errno, os, resource",
          "print(resource.getrlimit(resource.RLIMIT_NOFILE), resource.getrlimit(resource.RLIMIT_FSIZE))",
          "files = []",
          "try:",
          "    for i in range(40):",
          "        files.append(open(f'/tmp/f{i}', 'w'))",
          "except OSError as e:",
          "    print('opened', len(files), 'then', errno.errorcode[e.errno])",
          "for f in files:",
          "    f.close()",
          "try:",
          "    with open('big', 'wb') as f:",
          "        f.write(b'x' * (2 << 20))",
          "except OSError as e:",
          "    print('write:', errno.errorcode[e.errno], e.strerror)",
          "print(os.path.getsize('big'))",
        ].join("\n"),
        { limits: { openFiles: 32, fileSizeMb: 1 } },
      );
      expect(r.served.warmName).toBeDefined(); // not container limits: a warm container serves them
      expect(r.stderr).toBe("");
      expect(r.outcome.status).toBe("succeeded");
      // Python ignores SIGXFSZ, so the write fails with EFBIG; fds 0-2 are the only ones inherited.
      expect(r.stdout).toBe(`(32, 32) (${MiB}, ${MiB})\nopened 29 then EMFILE\nwrite: EFBIG File too large\n${MiB}\n`);
    });

    it("kills a shell command that writes past fileSizeMb with SIGXFSZ", async () => {
      const r = await runWarm('head -c 2097152 /dev/zero > big\necho "status $?"\nstat -c %s big', {
        language: "bash",
        limits: { fileSizeMb: 1 },
      });
      expect(r.served.warmName).toBeDefined();
      expect(r.outcome.status).toBe("succeeded");
      expect(r.stdout).toBe(`status 153\n${MiB}\n`); // 128 + SIGXFSZ (25)
      expect(r.stderr).toContain("File size limit exceeded");
    });

    it("returns at most returnedFiles files and says some were held back", async () => {
      const r = await runWarm("for name in 'abcde':\n    open(name, 'w').write(name)", {
        limits: { returnedFiles: 2 },
      });
      expect(r.served.warmName).toBeDefined();
      expect(r.outcome.status).toBe("succeeded");
      expect(r.outcome.files).toEqual([
        { path: "a", content: "a", encoding: "utf8" },
        { path: "b", content: "b", encoding: "utf8" },
      ]);
      expect(r.outcome.error?.code).toBe("files_truncated");
    });
  });

  it("sizes /workspace, /tmp and /dev/shm from the request, on a container of its own", async () => {
    await untilWarm(rt, AGENT_ID, POOL_SIZE);
    const before = await warmContainers(AGENT_ID);
    const since = sinceNow();
    const r = await run(
      [
        "import errno, os",
        "for d in ('/workspace', '/tmp', '/dev/shm'):",
        "    st = os.statvfs(d)",
        "    try:",
        "        with open(f'{d}/big', 'wb') as f:",
        "            f.write(b'x' * (2 << 20))",
        "        result = 'wrote'",
        "    except OSError as e:",
        "        result = errno.errorcode[e.errno]",
        "    print(d, st.f_blocks * st.f_frsize, result)",
      ].join("\n"),
      { limits: { workspaceMb: 1, tmpMb: 1, shmMb: 1 } },
    );
    expect(r.stderr).toBe("");
    expect(r.outcome.status).toBe("succeeded");
    expect(r.stdout).toBe(`/workspace ${MiB} ENOSPC\n/tmp ${MiB} ENOSPC\n/dev/shm ${MiB} ENOSPC\n`);
    const served = await servedBy(AGENT_ID, r.executionId, since);
    expect(served.warmName).toBeUndefined();
    expect(before).not.toContain(served.id);
  });

  it("replaces a warm container that dies while it waits, and serves nothing from it", async () => {
    await untilWarm(rt, AGENT_ID, POOL_SIZE);
    const before = await warmContainers(AGENT_ID);
    const victim = before[0] as string;
    await docker.getContainer(victim).kill();
    await awaitDestroyed(victim); // the runtime noticed and removed it
    await untilWarm(rt, AGENT_ID, POOL_SIZE);
    const after = await warmContainers(AGENT_ID);
    expect(after).toHaveLength(POOL_SIZE);
    expect(after).not.toContain(victim);
    expect(after).toContain(before[1]);
    const served: string[] = [];
    for (let i = 0; i < POOL_SIZE; i += 1) {
      const r = await runWarm(`print(${i})`);
      expect(r.outcome.status).toBe("succeeded");
      expect(r.stdout).toBe(`${i}\n`);
      expect(r.served.warmName).toBeDefined();
      served.push(r.served.id);
    }
    expect(served).not.toContain(victim);
  });

  it("serves a request whose warm container was killed a moment before, from a container that works", async () => {
    // Requests arrive as soon as Docker has the kill: the runtime may not have
    // seen the streams end yet, hands a dead container out, finds it silent and
    // starts a cold one instead. The user sees only a normal result.
    const agentId = newAgentId("warm-lost");
    const runtime = makeRuntime({ agentId, warm: { [IMAGE]: POOL_SIZE } });
    await untilWarm(runtime, agentId, POOL_SIZE);
    const victims = await warmContainers(agentId);
    expect(victims).toHaveLength(POOL_SIZE);
    const runs = await Promise.all(
      victims.map(async (victim, i) => {
        await docker.getContainer(victim).kill();
        const since = sinceNow();
        const r = await run(`print(${i})`, { rt: runtime });
        return { ...r, served: await servedBy(agentId, r.executionId, since) };
      }),
    );
    for (const [i, r] of runs.entries()) {
      expect(r.outcome.status).toBe("succeeded");
      expect(r.stdout).toBe(`${i}\n`);
      expect(victims).not.toContain(r.served.id);
    }
  });

  it("reports a warm-pool image that does not exist, backs off, and still serves the good image", async () => {
    const errors: { image: string; message: string; at: number }[] = [];
    const started = performance.now();
    const runtime = makeRuntime({
      warm: { [IMAGE]: 1, [MISSING_IMAGE]: 2 },
      onWarmError: (image, message) => errors.push({ image, message, at: performance.now() - started }),
    });
    await untilWarm(runtime, AGENT_ID, 1); // the good image's one container
    const since = sinceNow();
    const r = await run("print('still fine')", { rt: runtime });
    expect(r.outcome.status).toBe("succeeded");
    expect(r.stdout).toBe("still fine\n");
    expect((await servedBy(AGENT_ID, r.executionId, since)).warmName).toBeDefined();
    // A window of about 3 s: the failing image pauses 1 s, then 2 s..., and must not spin.
    await sleep(Math.max(0, 3_000 - (performance.now() - started)));
    const seen = [...errors];
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.length).toBeLessThanOrEqual(4); // one round of 2 at once, one retry round: no spin
    for (const e of seen) {
      expect(e).toMatchObject({
        image: MISSING_IMAGE,
        message: `image ${MISSING_IMAGE} not found; build it with npm run image:offline`,
      });
    }
    console.info(`onWarmError calls in 3 s: ${seen.map((e) => Math.round(e.at)).join(", ")} ms`);
  });

  it("runs a warm execution under gVisor (runsc)", async () => {
    const runtime = makeRuntime({ runtime: "runsc", warm: { [IMAGE]: 1 } });
    await untilWarm(runtime, AGENT_ID, 1);
    const gvisor: string[] = [];
    for (const id of await warmContainers(AGENT_ID)) {
      if ((await docker.getContainer(id).inspect()).HostConfig.Runtime === "runsc") gvisor.push(id);
    }
    expect(gvisor).toHaveLength(1);
    const since = sinceNow();
    const r = await run(
      "import sys\nprint('hello from', sys.argv[1:])\nprint(open('/proc/version').read().split()[2])",
      {
        rt: runtime,
        args: ["gvisor"],
      },
    );
    expect(r.stderr).toBe("");
    expect(r.outcome).toMatchObject({ status: "succeeded", exitCode: 0 });
    const [greeting, kernel] = r.stdout.split("\n");
    expect(greeting).toBe("hello from ['gvisor']");
    expect(kernel).not.toBe(release()); // gVisor's own kernel, not the host's
    expect((await servedBy(AGENT_ID, r.executionId, since)).id).toBe(gvisor[0]);
    console.info(`gVisor warm run: durationMs ${r.outcome.durationMs}, end to end ${Math.round(r.wallMs)} ms`);
  });

  it("close() removes the warm containers, leaving none of the agent's", async () => {
    await untilWarm(rt, AGENT_ID, POOL_SIZE);
    const warm = await warmContainers(AGENT_ID);
    expect(warm).toHaveLength(POOL_SIZE);
    await rt.close();
    expect(rt.warm).toBe(0);
    for (const id of warm) expect(await exists(id)).toBe(false); // close waited for the removals
    expect(await docker.listContainers({ all: true, filters: { label: [agentLabel(AGENT_ID)] } })).toEqual([]);
  });
});
