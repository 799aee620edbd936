import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readUntilStdout } from "../harness/api.ts";
import { docker } from "../harness/docker.ts";
import { AGENT_SECRET, TENANTS } from "../harness/stack.ts";
import {
  type AbuseStack,
  closeAndCheck,
  executeAndClean,
  py,
  RUNTIMES,
  startAbuseStack,
  stopAbuseStack,
} from "./stack.ts";

/** What a sandbox must never be able to read: the agent's own secret, its token, API keys. */
const HOST_SECRETS = [AGENT_SECRET.name, AGENT_SECRET.value, TENANTS.a.token, TENANTS.a.key, TENANTS.b.key];

/** The variables every program sees besides the request's own. */
const BASE_ENV = ["HOME", "LANG", "MPLCONFIGDIR", "PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "TMPDIR"];

describe.each(RUNTIMES)("isolation under %s", (runtime) => {
  let s: AbuseStack;
  beforeAll(async () => {
    s = await startAbuseStack(runtime, "iso");
  });
  afterAll(() => stopAbuseStack(s));

  it("leaves nothing for the next execution: no files, no background process, no variable", async () => {
    const first = await executeAndClean(s, {
      language: "bash",
      code: [
        "echo secret-shm > /dev/shm/leftover",
        "echo secret-tmp > /tmp/leftover",
        "echo secret-ws > /workspace/leftover",
        "export LEAK_EXPORTED=1",
        "echo 'export LEAK_RC=1' >> \"$HOME/.bashrc\"",
        // Three ways to outlive the program; each keeps stdout and stderr open
        // and would write a file a second later.
        "nohup bash -c 'trap \"\" HUP TERM INT; sleep 1; echo late > /workspace/late-nohup' &",
        "setsid bash -c 'sleep 1; echo late > /workspace/late-setsid' &",
        "python3 -c 'import os, time",
        "if os.fork() == 0:",
        "    os.setsid()",
        "    if os.fork() == 0:",
        "        time.sleep(1)",
        '        open("/workspace/late-double-fork", "w").write("late")',
        "    os._exit(0)'",
        "echo spawned",
      ].join("\n"),
    });
    expect(first).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "spawned\n", stderr: "" });
    // Every process died with the program: the runner neither waited for them
    // (a sleep of 1 s) nor collected anything they would have written.
    expect(first.durationMs).toBeLessThan(1_000);
    expect(first.files.map((f) => [f.path, f.content]).sort()).toEqual([
      [".bashrc", "export LEAK_RC=1\n"],
      ["leftover", "secret-ws\n"],
    ]);

    const next = await executeAndClean(s, {
      language: "python",
      code: py(
        "import os",
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())",
        "print(pids == sorted({1, os.getpid()}), [open(f'/proc/{p}/cmdline', 'rb').read()[:30] for p in pids if p not in (1, os.getpid())])",
        "print(sorted(os.listdir('/dev/shm')), sorted(os.listdir('/tmp')), sorted(os.listdir('/workspace')))",
        "print(os.environ.get('LEAK_EXPORTED'), os.environ.get('LEAK_RC'))",
      ),
    });
    expect(next.agentId).toBe(first.agentId);
    expect(next).toMatchObject({ status: "succeeded", stderr: "", files: [] });
    // /tmp/matplotlib: matplotlib's font list, which the runner of each new container copies there.
    expect(next.stdout).toBe("True []\n[] ['matplotlib'] ['main.py']\nNone None\n");

    const bash = await executeAndClean(s, {
      language: "bash",
      // Globs, not ls: this gVisor release fails coreutils 9's statx() with EINVAL.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own ${...}
      code: 'shopt -s dotglob nullglob\necho /dev/shm/* /tmp/* /workspace/*\necho "${LEAK_EXPORTED:-unset} ${LEAK_RC:-unset}"\n',
    });
    expect(bash).toMatchObject({ status: "succeeded", stderr: "" });
    expect(bash.stdout).toBe("/tmp/matplotlib /workspace/main.sh\nunset unset\n");
  });

  it("shows a program only its own environment, and no host secret anywhere in /proc", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import errno, json, os, sys",
        "print(json.dumps(sorted(os.environ)))",
        "print(os.environ['HOME'], os.environ['LANG'], os.environ['TMPDIR'], os.environ['MINE'])",
        "needles = [n.encode() for n in json.loads(sys.stdin.read())]",
        "found = []",
        "for pid in (p for p in os.listdir('/proc') if p.isdigit()):",
        "    for name in ('environ', 'cmdline'):",
        "        try:",
        "            data = open(f'/proc/{pid}/{name}', 'rb').read()",
        "        except OSError:",
        "            continue",
        "        found += [f'{pid}/{name}' for n in needles if n in data or b'EDGESWARM_' in data]",
        "print(found)",
        "try:",
        "    runner = open('/proc/1/environ', 'rb').read().split(b'\\0')",
        "    print('runner environ', sorted(v.split(b'=')[0].decode() for v in runner if v))",
        "except OSError as e:",
        "    print('runner environ', errno.errorcode[e.errno])",
      ),
      env: { MINE: "mine" },
      stdin: JSON.stringify(HOST_SECRETS),
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    const [names, values, found, runner] = result.stdout.split("\n");
    expect(JSON.parse(names as string)).toEqual([...BASE_ENV, "MINE"].sort());
    expect(values).toBe("/workspace C.UTF-8 /tmp mine");
    expect(found).toBe("[]");
    if (runtime === "runc") {
      // The runner is non-dumpable, so the kernel makes its /proc files root's.
      expect(runner).toBe("runner environ EACCES");
    } else {
      // gVisor does not tie /proc ownership to dumpability: the runner's
      // environment is readable, and holds only what the container was given.
      expect(runner).toBe("runner environ ['HOME', 'HOSTNAME', 'LANG', 'PATH']");
    }
    for (const secret of HOST_SECRETS) expect(result.stdout).not.toContain(secret);
  });

  it("shows a bash program the same environment, plus what bash itself sets", async () => {
    const result = await executeAndClean(s, {
      language: "bash",
      code: "env | cut -d= -f1 | sort\n",
      env: { MINE: "mine" },
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.stdout.trim().split("\n")).toEqual([...BASE_ENV, "MINE", "PWD", "SHLVL", "_"].sort());
  });

  it("shows in /proc only the runner and the program", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import os, socket",
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())",
        "print(pids == sorted({1, os.getpid()}), os.getppid())",
        "print(open('/proc/1/cmdline', 'rb').read().split(b'\\0')[:3])",
        "print(socket.gethostname())",
      ),
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.stdout).toBe("True 1\n[b'python3', b'-I', b'-c']\nsandbox\n");
  });

  it("does not let a program ptrace the runner (PID 1) or open its memory or descriptors", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import ctypes, errno, os",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "print('ptrace', 'WORKED' if libc.ptrace(16, 1, 0, 0) == 0 else errno.errorcode[ctypes.get_errno()])",
        "for name, attempt in [",
        "    ('mem', lambda: open('/proc/1/mem', 'rb')),",
        "    ('fd list', lambda: os.listdir('/proc/1/fd')),",
        "    ('fd/0 read', lambda: os.open('/proc/1/fd/0', os.O_RDONLY | os.O_NONBLOCK)),",
        "    ('fd/1 write', lambda: os.open('/proc/1/fd/1', os.O_WRONLY)),",
        "    ('fd/1 readlink', lambda: os.readlink('/proc/1/fd/1')),",
        "]:",
        "    try:",
        "        attempt()",
        "        print(name, 'WORKED')",
        "    except OSError as e:",
        "        print(name, errno.errorcode[e.errno])",
      ),
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.stdout).toBe(
      [
        "ptrace EPERM",
        "mem EACCES",
        // gVisor lets anyone list PID 1's descriptors and read their links
        // ("pipe:[…]"), but not open them.
        `fd list ${runtime === "runc" ? "EACCES" : "WORKED"}`,
        "fd/0 read EACCES",
        "fd/1 write EACCES",
        `fd/1 readlink ${runtime === "runc" ? "EACCES" : "WORKED"}`,
        "",
      ].join("\n"),
    );
  });

  it("reports the real status of a program that writes forged runner frames to PID 1's stdout", async () => {
    // A frame is 1 byte kind, 4 bytes big-endian length, payload: a forged
    // stdout frame, then a forged exit frame claiming success.
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import errno, json, os, struct",
        "def frame(kind, payload):",
        "    return struct.pack('>BI', kind, len(payload)) + payload",
        "exit = dict(exit_code=0, signal=None, timed_out=False, oom_killed=False, output_limited=False,",
        "            stdout_truncated=False, stderr_truncated=False, files_truncated=False, duration_ms=1.0)",
        "try:",
        "    fd = os.open('/proc/1/fd/1', os.O_WRONLY)",
        "    os.write(fd, frame(1, b'FORGED\\n') + frame(5, json.dumps(exit).encode()))",
        "    print('forged', flush=True)",
        "except OSError as e:",
        "    print('refused', errno.errorcode[e.errno], flush=True)",
        "while True:",
        "    pass",
      ),
      limits: { timeoutMs: 2_000 },
    });
    expect(result.status).toBe("timed_out");
    expect(result.stdout).toMatch(/^refused (EACCES|EPERM)\n$/);
  });

  it("keeps /sys and /proc/sys read-only", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import errno",
        "for path in ['/proc/sys/kernel/hostname', '/proc/sys/vm/drop_caches', '/proc/sysrq-trigger',",
        "             '/sys/kernel/x', '/sys/fs/cgroup/x', '/sys/fs/cgroup/memory/memory.limit_in_bytes']:",
        "    try:",
        "        open(path, 'w').write('1')",
        "        print(path, 'WORKED')",
        "    except OSError as e:",
        "        print(path, errno.errorcode[e.errno])",
      ),
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(6);
    // runc: EROFS (read-only mounts) or EACCES. runsc: gVisor has no
    // /sys/fs/cgroup in the sandbox and no sysrq-trigger (ENOENT), and checks
    // permissions before the mount (EACCES). No write lands either way.
    for (const line of lines) expect(line).toMatch(/ (EROFS|EACCES|EPERM|ENOENT)$/);
  });

  it("has no network but its own loopback: no interface, no name, no host port, no Docker socket", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import errno, os, socket, sys",
        "print(socket.if_nameindex())",
        "print(sorted(os.listdir('/sys/class/net')))",
        "print([line.split(':')[0].strip() for line in open('/proc/net/dev').read().splitlines()[2:]])",
        "try:",
        "    socket.getaddrinfo('example.com', 443)",
        "    print('resolved')",
        "except socket.gaierror:",
        "    print('no resolution')",
        // 127.0.0.1 inside is the sandbox's own loopback: the host's Worker port is not on it.
        "probe = socket.socket()",
        "probe.settimeout(5)",
        "try:",
        "    probe.connect(('127.0.0.1', int(sys.argv[1])))",
        "    print('reached the host')",
        "except OSError as e:",
        "    print('host port', errno.errorcode[e.errno])",
        "print([p for p in ('/var/run/docker.sock', '/run/docker.sock') if os.path.exists(p)])",
        "server = socket.create_server(('127.0.0.1', 0))",
        "client = socket.create_connection(server.getsockname())",
        "peer, _ = server.accept()",
        "client.sendall(b'ping')",
        "print(peer.recv(4))",
      ),
      args: [String(s.stack.worker.port)],
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.stdout).toBe("[(1, 'lo')]\n['lo']\n['lo']\nno resolution\nhost port ECONNREFUSED\n[]\nb'ping'\n");
  });

  it("gives a program no privilege to gain: no capabilities, no_new_privs, no setuid", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import ctypes, errno, os, stat, subprocess",
        "status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())",
        "print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups())",
        "print(status['CapEff'].strip(), status['CapPrm'].strip(), status['CapBnd'].strip())",
        "print('no_new_privs', ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))",
        "for name, attempt in [",
        "    ('setuid', lambda: os.setuid(0)),",
        "    ('chroot', lambda: os.chroot('/tmp')),",
        "    ('mknod /dev/mem', lambda: os.mknod('/tmp/mem', 0o600 | stat.S_IFCHR, os.makedev(1, 1))),",
        "    ('open /dev/mem', lambda: os.open('/tmp/mem', os.O_RDONLY)),",
        "]:",
        "    try:",
        "        attempt()",
        "        print(name, 'WORKED')",
        "    except OSError as e:",
        "        print(name, errno.errorcode[e.errno])",
        "su = subprocess.run(['su', '-c', 'id'], capture_output=True, text=True, input='')",
        "print('su', su.returncode, 'uid=0' in su.stdout)",
      ),
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.stdout).toBe(
      [
        "65534 65534 65534 []",
        "0000000000000000 0000000000000000 0000000000000000",
        "no_new_privs 1",
        "setuid EPERM",
        "chroot EPERM",
        // runc: creating a device node needs CAP_MKNOD. runsc: gVisor lets
        // anyone make one in its own tmpfs, but it only ever opens gVisor's
        // emulated devices, and it has no memory device: ENXIO.
        ...(runtime === "runc"
          ? ["mknod /dev/mem EPERM", "open /dev/mem ENOENT"]
          : ["mknod /dev/mem WORKED", "open /dev/mem ENXIO"]),
        "su 1 False",
        "",
      ].join("\n"),
    );
  });

  it("runs each sandbox with every layer set, as Docker itself reports it of a live one", async () => {
    const stop = new AbortController();
    const events = s.api.stream(
      { language: "python", code: "import time\nprint('up', flush=True)\ntime.sleep(60)", limits: { pids: 40 } },
      stop.signal,
    );
    let first = await events.next();
    while (first.value?.type === "queued") first = await events.next();
    if (first.value?.type !== "started") throw new Error(`expected started, got ${JSON.stringify(first.value)}`);
    const id = first.value.id;
    await readUntilStdout(events, "up"); // the program, so its container, is running
    const container = await s.containers.executionContainer(id);
    const info = await docker.getContainer(container).inspect();
    const host = info.HostConfig;
    expect(host.NetworkMode).toBe("none");
    expect((info.Config as { NetworkDisabled?: boolean }).NetworkDisabled).toBe(true);
    expect(host.CapDrop).toEqual(["ALL"]);
    expect(host.CapAdd).toEqual(["SETUID", "SETGID", "SETPCAP"]);
    expect(host.SecurityOpt).toEqual(["no-new-privileges"]);
    expect(host.Privileged).toBe(false);
    expect(info.Config.User).toBe("0:0"); // only until the runner drops to its uid, and the program to 65534
    expect(host.ReadonlyRootfs).toBe(true);
    expect(Object.keys(host.Tmpfs ?? {}).sort()).toEqual(["/tmp", "/workspace"]);
    expect(host.Binds ?? []).toEqual([]);
    expect(info.Mounts.filter((m) => m.Type !== "tmpfs")).toEqual([]);
    expect(host.Memory).toBe(256 * 1024 * 1024);
    expect(host.MemorySwap).toBe(host.Memory);
    expect(host.NanoCpus).toBe(1e9);
    expect(host.PidsLimit).toBe(runtime === "runsc" ? 64 + 32 * 40 : 40);
    expect(host.Ulimits).toContainEqual({ Name: "core", Soft: 0, Hard: 0 });
    expect(host.Runtime).toBe(runtime);
    expect(info.Config.Env?.sort()).toEqual(["LANG=C.UTF-8", expect.stringMatching(/^PATH=/)]);
    expect(info.State.Running).toBe(true);
    stop.abort(); // the caller leaves: the sandbox is killed
    await events.return(undefined).catch(() => {});
    await s.containers.executionGone(id, 20_000);
  });

  it("gives each of many executions started at once its own container, and each only its own output", async () => {
    const n = 8;
    const tokens = Array.from({ length: n }, (_, i) => `token-${i}-${Math.random().toString(36).slice(2)}`);
    const results = await Promise.all(
      tokens.map((token) =>
        s.api.execute({
          language: "python",
          code: "import os, sys, time\nopen('mine.txt', 'w').write(sys.argv[1])\ntime.sleep(0.3)\nprint(open('mine.txt').read(), sorted(os.listdir('.')))",
          args: [token],
          queueTimeoutMs: 120_000,
        }),
      ),
    );
    expect(results.map((r) => r.stdout)).toEqual(tokens.map((t) => `${t} ['main.py', 'mine.txt']\n`));
    expect(results.map((r) => r.files)).toEqual(
      tokens.map((t) => [{ path: "mine.txt", content: t, encoding: "utf8" }]),
    );
    const containers = await Promise.all(results.map((r) => s.containers.executionContainer(r.id)));
    expect(new Set(containers).size).toBe(n);
    for (const r of results) await s.containers.executionGone(r.id);
  });

  it("leaves a crashing program no core file, and no limit to raise it by", async () => {
    const result = await executeAndClean(s, {
      language: "bash",
      code: "ulimit -c; ulimit -Hc; ulimit -c unlimited 2>/dev/null || echo refused; kill -SEGV $$",
    });
    expect(result).toMatchObject({ status: "failed", exitCode: null, signal: "SIGSEGV" });
    expect(result.stdout).toBe("0\n0\nrefused\n");
    expect(result.files).toEqual([]);
  });

  it("still serves a benign execution, then stops clean", () => closeAndCheck(s));
});
