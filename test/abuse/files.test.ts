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

describe.each(RUNTIMES)("returned-files abuse under %s", (runtime) => {
  let s: AbuseStack;
  beforeAll(async () => {
    s = await startAbuseStack(runtime, "files");
  });
  afterAll(() => stopAbuseStack(s));

  it("returns exactly returnedFiles (100 by default) of 150 files, and says files_truncated", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "for i in range(150):\n    open(f'f{i:03}', 'w').write(str(i))\n",
    });
    expect(result.status).toBe("succeeded");
    expect(result.error?.code).toBe("files_truncated");
    expect(result.files).toHaveLength(100);
    for (const file of result.files) {
      expect(file.path).toMatch(/^f\d{3}$/);
      expect(file.content).toBe(String(Number(file.path.slice(1))));
    }
    expect(new Set(result.files.map((f) => f.path)).size).toBe(100);
  });

  it("returns exactly a lower returnedFiles", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "for i in range(20):\n    open(f'f{i:02}', 'w').write('x')\n",
      limits: { returnedFiles: 7 },
    });
    expect(result.status).toBe("succeeded");
    expect(result.error?.code).toBe("files_truncated");
    expect(result.files).toHaveLength(7);
  });

  it("skips one file over returnedFileBytes and still returns the small one", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "open('huge.bin', 'wb').write(b'h' * (9 * 1024 * 1024))\nopen('small.txt', 'w').write('small')\n",
    });
    expect(result.status).toBe("succeeded");
    expect(result.error?.code).toBe("files_truncated");
    expect(result.files).toEqual([{ path: "small.txt", content: "small", encoding: "utf8" }]);
  });

  it("stops at returnedTotalBytes: only the files that fit come back", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "for name in 'abc':\n    open(name, 'w').write(name * 1500)\n",
      limits: { returnedTotalBytes: 4096 },
    });
    expect(result.status).toBe("succeeded");
    expect(result.error?.code).toBe("files_truncated");
    expect(result.files).toEqual([
      { path: "a", content: "a".repeat(1500), encoding: "utf8" },
      { path: "b", content: "b".repeat(1500), encoding: "utf8" },
    ]);
  });

  it("never returns or follows a symlink out of the workspace, a FIFO or a hard link to /etc", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import errno, os",
        "os.remove('input.txt')",
        "os.symlink('/etc/passwd', 'input.txt')", // an input file swapped for a link
        "os.symlink('/etc/passwd', 'passwd')",
        "os.symlink('/etc', 'etc')",
        "os.symlink('/', 'root')",
        "os.symlink('loop', 'loop')",
        "os.makedirs('deep/er')",
        "os.symlink('../../../etc/shadow', 'deep/er/shadow')",
        "os.mkfifo('fifo')",
        "try:",
        "    os.link('/etc/passwd', 'hard')",
        "except OSError as e:",
        "    print('hard link', errno.errorcode[e.errno])",
        "open('ok.txt', 'w').write('ok')",
      ),
      files: [{ path: "input.txt", content: "input" }],
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    // /workspace is its own tmpfs: no hard link across to the image.
    expect(result.stdout).toBe("hard link EXDEV\n");
    expect(result.files).toEqual([{ path: "ok.txt", content: "ok", encoding: "utf8" }]);
    // Links are not returned by design (no cap skipped them), so no error either.
    expect(result.error).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain("root:x:0:0");
  });

  it("skips files whose names cannot be sent back, with files_truncated", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import os",
        "for name in (b'\\xff\\xfe', b'new\\nline', b'back\\\\slash', b'tab\\there'):",
        "    fd = os.open(name, os.O_CREAT | os.O_WRONLY)",
        "    os.write(fd, b'x')",
        "    os.close(fd)",
        "open('fine name \\u00e9', 'w').write('fine')",
      ),
    });
    expect(result.status).toBe("succeeded");
    expect(result.error?.code).toBe("files_truncated");
    expect(result.files).toEqual([{ path: "fine name \u00e9", content: "fine", encoding: "utf8" }]);
  });

  it("returns a file that is not valid UTF-8 as base64, byte for byte, and valid UTF-8 as text", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "open('all-bytes.bin', 'wb').write(bytes(range(256)))\nopen('text.txt', 'wb').write('nul\\0 \u00e9 \u20ac \\U0001f600'.encode())\n",
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.error).toBeUndefined();
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(result.files).toEqual([
      { path: "all-bytes.bin", content: allBytes.toString("base64"), encoding: "base64" },
      { path: "text.txt", content: "nul\0 \u00e9 \u20ac \u{1f600}", encoding: "utf8" },
    ]);
  });

  it("returns exactly 100 files promptly from more entries than the runner scans", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import os",
        "for d in range(12):",
        "    os.mkdir(f'd{d:02}')",
        "    for i in range(1000):",
        "        open(f'd{d:02}/f{i:04}', 'w').close()",
        "print('made 12000 files')",
      ),
      limits: { timeoutMs: 60_000 },
    });
    expect(result).toMatchObject({ status: "succeeded", stdout: "made 12000 files\n" });
    expect(result.error?.code).toBe("files_truncated");
    expect(result.files).toHaveLength(100);
    for (const file of result.files) expect(file).toMatchObject({ content: "", encoding: "utf8" });
  });

  it("returns three 5 MiB files within the 16 MiB total, byte for byte, promptly, and stays connected", async () => {
    const t0 = performance.now();
    const result = await executeAndClean(s, {
      language: "python",
      code: "for name in 'xyz':\n    open(name, 'w').write(name * (5 * 1024 * 1024))\n",
    });
    const elapsed = performance.now() - t0;
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.error).toBeUndefined();
    expect(result.files.map((f) => [f.path, f.content.length, f.content === f.path.repeat(5 * MiB)])).toEqual([
      ["x", 5 * MiB, true],
      ["y", 5 * MiB, true],
      ["z", 5 * MiB, true],
    ]);
    // 15 MiB is within every documented cap; it must not take the Worker
    // seconds per MiB, nor stall it past the agents' heartbeats.
    expect.soft(elapsed).toBeLessThan(10_000);
    const next = await s.api.raw("/v1/executions", JSON.stringify({ language: "python", code: "print('next')" }));
    expect({ http: next.status, body: await next.json() }).toMatchObject({
      http: 200,
      body: { status: "succeeded", stdout: "next\n" },
    });
  });

  it("still serves a benign execution, then stops clean", () => closeAndCheck(s));
});
