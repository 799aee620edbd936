import { readFile } from "node:fs/promises";
import { type ExecutionSummary, LIMITS } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it, test } from "vitest";
import {
  type AbuseStack,
  closeAndCheck,
  executeAndClean,
  lateMs,
  py,
  RUNTIMES,
  startAbuseStack,
  stopAbuseStack,
} from "./stack.ts";

/** CPU seconds a container has used, from the host's cgroup (v1 cpuacct, else v2 cpu.stat). */
async function containerCpuSeconds(containerId: string): Promise<number> {
  try {
    return Number(await readFile(`/sys/fs/cgroup/cpuacct/docker/${containerId}/cpuacct.usage`, "utf8")) / 1e9;
  } catch {
    const stat = await readFile(`/sys/fs/cgroup/system.slice/docker-${containerId}.scope/cpu.stat`, "utf8");
    return Number(/usage_usec (\d+)/.exec(stat)?.[1]) / 1e6;
  }
}

/**
 * Under gVisor every process costs the sandbox about 3.6 MiB of host memory
 * (measured: 62 sleeping Python children took 233 MiB), so at the default
 * memoryMb a fork bomb meets the memory limit before the pids limit. These
 * cases are about pids; the memory limit gets room so that pids is what stops them.
 */
const FORK_BOMB_MEMORY_MB = 1_024;
/** Tearing down a gVisor sandbox of a hundred processes took over 15 s once, on a busy host. */
const FORK_BOMB_GONE_MS = 45_000;

describe.each(RUNTIMES)("resource abuse under %s", (runtime) => {
  let s: AbuseStack;
  beforeAll(async () => {
    s = await startAbuseStack(runtime, "res");
  });
  afterAll(() => stopAbuseStack(s));

  it("ends a classic bash fork bomb at timeoutMs: the pids limit makes fork fail inside", async () => {
    const result = await executeAndClean(
      s,
      {
        language: "bash",
        code: ":(){ :|:& };:\nwhile :; do :; done\n",
        limits: { timeoutMs: 3_000, memoryMb: FORK_BOMB_MEMORY_MB },
      },
      FORK_BOMB_GONE_MS,
    );
    expect(result.status).toBe("timed_out");
    expect(result.exitCode).toBeNull();
    expect(result.stderr).toMatch(/fork: (retry: )?Resource temporarily unavailable/);
    expect(result.durationMs).toBeGreaterThanOrEqual(3_000);
    expect(result.durationMs).toBeLessThan(3_000 + lateMs(runtime));
  });

  it("lets a Python fork bomb see EAGAIN before `pids` processes exist, and reports its own exit", async () => {
    const result = await executeAndClean(
      s,
      {
        language: "python",
        code: py(
          "import errno, os, time",
          "n = 0",
          "while n < 10_000:",
          "    try:",
          "        pid = os.fork()",
          "    except OSError as e:",
          "        print(f'{errno.errorcode[e.errno]} after {n} forks', flush=True)",
          "        os._exit(3)",
          "    if pid == 0:",
          "        time.sleep(60)",
          "        os._exit(0)",
          "    n += 1",
          "print('never limited', flush=True)",
        ),
        limits: { pids: 64, timeoutMs: 20_000, memoryMb: FORK_BOMB_MEMORY_MB },
      },
      FORK_BOMB_GONE_MS,
    );
    expect(result.status).toBe("failed");
    expect(result.exitCode).toBe(3);
    const forks = Number(/^EAGAIN after (\d+) forks\n$/.exec(result.stdout)?.[1]);
    // The runner and the program take a few of the 64; the children take the rest.
    expect(forks).toBeGreaterThan(32);
    expect(forks).toBeLessThan(64);
    // The sleeping children were killed with the program, not waited for.
    expect(result.durationMs).toBeLessThan(10_000);
  });

  it("runs a program under the smallest pids limit a request may ask for", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "print('small but alive')",
      limits: { pids: LIMITS.pids.min },
    });
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "small but alive\n", stderr: "" });
  });

  it("ends a memory bomb spread over several processes with oom_killed", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import os",
        "kids = []",
        "for _ in range(4):",
        "    pid = os.fork()",
        "    if pid == 0:",
        "        blocks = []",
        "        while True:",
        "            blocks.append(bytearray(8 * 1024 * 1024))",
        "    kids.append(pid)",
        "for pid in kids:",
        "    os.waitpid(pid, 0)",
        "print('every child ended')",
      ),
      limits: { memoryMb: 64, timeoutMs: 20_000 },
    });
    expect(result.status).toBe("oom_killed");
    if (runtime === "runc") {
      // The cgroup's OOM killer picks the children (the runner gives them
      // oom_score_adj 1000); the parent lives on, exits 0, and the runner reads
      // the cgroup's OOM counter: oom_killed wins over the exit code.
      expect(result).toMatchObject({ exitCode: 0, stdout: "every child ended\n" });
    } else {
      // gVisor keeps every sandboxed process inside one host process, so the
      // host's OOM killer ends the whole sandbox, parent included; the agent
      // reads Docker's OOMKilled flag. No exit code, no output.
      expect(result).toMatchObject({ exitCode: null, stdout: "" });
    }
  });

  it("ends a tmpfs fill bigger than memoryMb with oom_killed: tmpfs pages count as memory", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "with open('/workspace/big', 'wb') as f:",
        "    for _ in range(200):",
        "        f.write(b'x' * (1 << 20))",
        "print('wrote 200 MiB')",
      ),
      limits: { memoryMb: 64, workspaceMb: 256, timeoutMs: 20_000 },
    });
    expect(result.status).toBe("oom_killed");
    expect(result.stdout).toBe("");
    expect(result.files).toEqual([]);
  });

  it("ends an infinite loop that ignores every catchable signal at timeoutMs", async () => {
    const t0 = performance.now();
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import signal",
        "for sig in signal.valid_signals():",
        "    try:",
        "        signal.signal(sig, signal.SIG_IGN)",
        "    except (OSError, ValueError):",
        "        pass",
        "print('ignoring signals', flush=True)",
        "while True:",
        "    pass",
      ),
      limits: { timeoutMs: 2_000 },
    });
    const elapsed = performance.now() - t0;
    expect(result).toMatchObject({ status: "timed_out", exitCode: null, stdout: "ignoring signals\n" });
    expect(result.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(result.durationMs).toBeLessThan(2_000 + lateMs(runtime));
    expect(elapsed).toBeLessThan(2_000 + 2 * lateMs(runtime) + 2_000);
  });

  it("holds CPU spinners on many processes to `cpus`, and ends them at timeoutMs", async () => {
    // Eight busy processes under cpus=0.5. The host's cgroup says how much CPU
    // the whole container used between the program's two ticks; under runsc
    // that is gVisor's sandbox, which runs every sandboxed process. The ticks
    // come from a sleeping parent, which gVisor wakes late when its spinners
    // hog the half core, hence the long timeout.
    const events = s.api.stream({
      language: "python",
      code: py(
        "import os, time",
        "for _ in range(8):",
        "    if os.fork() == 0:",
        "        while True:",
        "            pass",
        "time.sleep(1)",
        "print('tick', flush=True)",
        "time.sleep(1.5)",
        "print('tick', flush=True)",
        "time.sleep(10**6)",
      ),
      limits: { cpus: 0.5, timeoutMs: 8_000 },
    });
    let container: Promise<string> | undefined;
    const samples: { cpu: number; at: number }[] = [];
    let result: ExecutionSummary | undefined;
    let stdout = "";
    for await (const event of events) {
      if (event.type === "started") container = s.containers.executionContainer(event.id);
      if (event.type === "stdout") {
        stdout += event.data;
        for (const _ of event.data.match(/tick/g) ?? []) {
          if (!container) throw new Error("stdout before the started event");
          samples.push({ cpu: await containerCpuSeconds(await container), at: performance.now() });
        }
      }
      if (event.type === "finished") result = event.result;
    }
    expect(stdout).toBe("tick\ntick\n");
    expect(result?.status).toBe("timed_out");
    expect(result?.durationMs).toBeGreaterThanOrEqual(8_000);
    const [first, second] = samples;
    if (!first || !second) throw new Error(`expected two samples, got ${samples.length}`);
    const cores = (second.cpu - first.cpu) / ((second.at - first.at) / 1000);
    // At most half a core (plus one CFS period of slack), and the spinners did run.
    expect(cores).toBeLessThan(0.6);
    expect(cores).toBeGreaterThan(0.1);
    if (result) await s.containers.executionGone(result.id);
  });

  test.each([
    ["a Python sleep", "python", "import time\nprint('sleeping', flush=True)\ntime.sleep(10**6)\n"],
    ["bash `sleep infinity` in a detached session", "bash", "echo sleeping\nsetsid sleep infinity &\nwait\n"],
    [
      "a read from a FIFO nobody writes",
      "python",
      "import os\nos.mkfifo('/tmp/never')\nprint('sleeping', flush=True)\nopen('/tmp/never').read()\n",
    ],
  ] as const)("ends %s at timeoutMs", async (_name, language, code) => {
    // Long enough for a fresh bash to print under gVisor on a busy host (1 s was not, once).
    const timeoutMs = 3_000;
    const result = await executeAndClean(s, { language, code, limits: { timeoutMs } });
    expect(result).toMatchObject({ status: "timed_out", exitCode: null, signal: "SIGKILL", stdout: "sleeping\n" });
    expect(result.durationMs).toBeGreaterThanOrEqual(timeoutMs);
    expect(result.durationMs).toBeLessThan(timeoutMs + lateMs(runtime));
  });

  it("still serves a benign execution, then stops clean", () => closeAndCheck(s));
});
