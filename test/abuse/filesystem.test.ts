import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AbuseStack,
  closeAndCheck,
  executeAndClean,
  py,
  RUNTIMES,
  startAbuseStack,
  stopAbuseStack,
} from "./stack.ts";

const MiB = 1024 * 1024;

/**
 * Python that appends 64 KiB blocks of 'a' to `path` until a write fails,
 * then prints errno, size, and what the directory's filesystem held before
 * (each file in pages, as tmpfs charges them).
 */
function fill(path: string): string {
  return py(
    "import errno, os",
    `top = os.path.dirname(${JSON.stringify(path)})`,
    "held = sum(-(-os.path.getsize(os.path.join(d, n)) // 4096) * 4096 for d, _, names in os.walk(top) for n in names)",
    "try:",
    `    with open(${JSON.stringify(path)}, 'wb') as f:`,
    "        while True:",
    "            f.write(b'a' * 65536)",
    "            f.flush()",
    "except OSError as e:",
    `    print(errno.errorcode[e.errno], os.path.getsize(${JSON.stringify(path)}), held)`,
  );
}

/** Parses fill()'s "ERRNO SIZE HELD" line; `held` is kept apart, for the tests that look at it. */
function filled(stdout: string): { errno: string; size: number } {
  return parseFill(stdout).result;
}

function parseFill(stdout: string): { result: { errno: string; size: number }; held: number } {
  const match = /^([A-Z]+) (\d+) (\d+)\n$/.exec(stdout);
  if (!match) throw new Error(`unexpected output ${JSON.stringify(stdout)}`);
  return { result: { errno: match[1] as string, size: Number(match[2]) }, held: Number(match[3]) };
}

describe.each(RUNTIMES)("filesystem abuse under %s", (runtime) => {
  let s: AbuseStack;
  beforeAll(async () => {
    s = await startAbuseStack(runtime, "fs");
  });
  afterAll(() => stopAbuseStack(s));

  it("fails a write that fills /workspace with ENOSPC, and still returns the file it filled", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: fill("/workspace/fill"),
      limits: { workspaceMb: 2 },
    });
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stderr: "" });
    const { errno, size } = filled(result.stdout);
    expect(errno).toBe("ENOSPC");
    expect(size).toBeGreaterThan(1.5 * MiB); // main.py takes a block or two
    expect(size).toBeLessThanOrEqual(2 * MiB);
    expect(result.files).toEqual([{ path: "fill", content: "a".repeat(size), encoding: "utf8" }]);
    expect(result.error).toBeUndefined();
  });

  it.each([
    ["/tmp", "/tmp/fill", { tmpMb: 3 }, 3 * MiB],
    ["/dev/shm", "/dev/shm/fill", { shmMb: 1 }, 1 * MiB],
  ] as const)("fails a write that fills %s with ENOSPC at its size", async (_dir, path, limits, bytes) => {
    const result = await executeAndClean(s, { language: "python", code: fill(path), limits });
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stderr: "", files: [] });
    // /tmp starts with matplotlib's font list (docs/sandbox.md); it counts against tmpMb, and stays small.
    const { result: got, held } = parseFill(result.stdout);
    expect(got).toEqual({ errno: "ENOSPC", size: bytes - held });
    expect(held).toBeLessThanOrEqual(64 * 1024);
  });

  it("fails a write past fileSizeMb with EFBIG", async () => {
    const result = await executeAndClean(s, { language: "python", code: fill("/tmp/big"), limits: { fileSizeMb: 1 } });
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stderr: "" });
    expect(filled(result.stdout)).toEqual({ errno: "EFBIG", size: 1 * MiB });
  });

  it("kills a non-Python writer past fileSizeMb with SIGXFSZ", async () => {
    const result = await executeAndClean(s, {
      language: "bash",
      code: 'head -c 3000000 /dev/zero > /tmp/big\necho "head exited $?"\n',
      limits: { fileSizeMb: 1 },
    });
    // 153 = 128 + SIGXFSZ (25): the default action of the signal, as outside a sandbox.
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "head exited 153\n" });
    expect(result.stderr).toContain("File size limit exceeded");
  });

  it("opens no more than openFiles descriptors: EMFILE past it", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import errno",
        "held = []",
        "try:",
        "    while len(held) < 10_000:",
        "        held.append(open('/dev/null'))",
        "except OSError as e:",
        "    print(errno.errorcode[e.errno], len(held))",
      ),
      limits: { openFiles: 32 },
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    const [errno, count] = result.stdout.trim().split(" ");
    expect(errno).toBe("EMFILE");
    // 0, 1, 2 and whatever the interpreter holds open count against the 32.
    expect(Number(count)).toBeGreaterThan(20);
    expect(Number(count)).toBeLessThan(32);
  });

  it("refuses writes anywhere on the root filesystem", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import errno, os",
        "attempts = {",
        "    'create /x': lambda: open('/x', 'w'),",
        "    'create /etc/x': lambda: open('/etc/x', 'w'),",
        "    'append /etc/passwd': lambda: open('/etc/passwd', 'a'),",
        "    'create /usr/x': lambda: open('/usr/x', 'w'),",
        "    'create /usr/lib/python3/x': lambda: open('/usr/lib/python3/x', 'w'),",
        "    'create /bin/x': lambda: open('/bin/x', 'w'),",
        "    'mkdir /var/x': lambda: os.mkdir('/var/x'),",
        "    'chmod /etc/passwd': lambda: os.chmod('/etc/passwd', 0o777),",
        "    'rename /etc/os-release': lambda: os.rename('/etc/os-release', '/etc/os-release2'),",
        "    'unlink /usr/bin/python3': lambda: os.unlink('/usr/bin/python3'),",
        "}",
        "for name, attempt in attempts.items():",
        "    try:",
        "        attempt()",
        "        print(name, 'WORKED')",
        "    except OSError as e:",
        "        print(name, errno.errorcode[e.errno])",
      ),
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(10);
    // runc: the kernel answers EROFS for the read-only mount (EACCES for the
    // root-owned /root-style directories). runsc: gVisor checks permissions
    // first, so uid 65534 gets EACCES (or EPERM for chmod) on every root-owned
    // path. Either way, nothing was written.
    for (const line of lines) expect(line).toMatch(/ (EROFS|EACCES|EPERM)$/);
  });

  it("refuses to execute files written to /tmp, /workspace and /dev/shm (noexec)", async () => {
    const result = await executeAndClean(s, {
      language: "bash",
      code: [
        "printf '#!/bin/sh\\necho ran\\n' > /tmp/x.sh",
        'for p in /tmp/x.sh /workspace/x.sh /dev/shm/x.sh; do cp /tmp/x.sh $p; chmod +x $p; $p; echo "$p $?"; done',
        'cp /bin/true /tmp/true; chmod +x /tmp/true; /tmp/true; echo "/tmp/true $?"',
        "rm /workspace/x.sh",
      ].join("\n"),
    });
    expect(result.status).toBe("succeeded");
    expect(result.stdout).toBe("/tmp/x.sh 126\n/workspace/x.sh 126\n/dev/shm/x.sh 126\n/tmp/true 126\n");
    // runc names the script; gVisor names its interpreter ("bad interpreter").
    expect(result.stderr.match(/Permission denied/g)).toHaveLength(4);
    expect(result.stderr).not.toContain("ran");
  });

  it("still serves a benign execution, then stops clean", () => closeAndCheck(s));
});
