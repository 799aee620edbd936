import { createHash } from "node:crypto";
import { REQUEST_MAXIMA } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it, test } from "vitest";
import {
  type AbuseStack,
  closeAndCheck,
  executeAndClean,
  py,
  RUNTIMES,
  startAbuseStack,
  stopAbuseStack,
} from "./stack.ts";

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** Deterministic text of `chars` UTF-16 units: mostly ASCII, some 2-, 3- and 4-byte UTF-8. */
function noisyText(chars: number, seed: number): string {
  const alphabet = ["a", "Z", "0", " ", "\n", "\t", '"', "'", "\\", "$(id)", ";", "`", "é", "€", "→", "😀"];
  let out = "";
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const token = alphabet[x % alphabet.length] as string;
    if (out.length + token.length > chars) return out.padEnd(chars, "a");
    out += token;
  }
}

describe.each(RUNTIMES)("output abuse under %s", (runtime) => {
  let s: AbuseStack;
  beforeAll(async () => {
    s = await startAbuseStack(runtime, "out");
  });
  afterAll(() => stopAbuseStack(s));

  it("cuts a stderr flood at exactly outputBytes", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "import sys\nprint('before')\nwhile True:\n    sys.stderr.write('e' * 1000)\n",
      limits: { outputBytes: 10_000, timeoutMs: 20_000 },
    });
    expect(result.status).toBe("output_limited");
    expect(result.truncated).toEqual({ stdout: false, stderr: true });
    expect(result.stdout).toBe("before\n");
    expect(result.stderr).toBe("e".repeat(10_000));
  });

  it("cuts one huge stdout line with no newline at exactly the default outputBytes", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "import sys\nsys.stdout.write('x' * (8 * 1024 * 1024))\nsys.stdout.flush()\nprint('unreachable', file=sys.stderr)\n",
    });
    expect(result.status).toBe("output_limited");
    expect(result.truncated).toEqual({ stdout: true, stderr: false });
    expect(result.stdout.length).toBe(1024 * 1024);
    expect(result.stdout).toBe("x".repeat(1024 * 1024));
  });

  it("stops an endless flood of 64 KiB writes at the default outputBytes with output_limited", async () => {
    // The runner reads 64 KiB at a time and the default cap is 16 of those.
    const result = await executeAndClean(s, {
      language: "python",
      code: "import os\nwhile True:\n    os.write(1, b'z' * 65536)\n",
      limits: { timeoutMs: 5_000 },
    });
    expect(result.status).toBe("output_limited");
    expect(result.truncated).toEqual({ stdout: true, stderr: false });
    expect(result.stdout).toBe("z".repeat(1024 * 1024));
    expect(result.durationMs).toBeLessThan(5_000);
  });

  it("cuts one huge stderr line written in a single write at exactly outputBytes", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "import os\nos.write(2, b'y' * 10_000_000)\nprint('after the write')\n",
      limits: { outputBytes: 3_000 },
    });
    expect(result.status).toBe("output_limited");
    expect(result.truncated).toEqual({ stdout: false, stderr: true });
    expect(result.stderr).toBe("y".repeat(3_000));
  });

  it("keeps both streams within outputBytes when two processes flood them at once", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import os",
        "if os.fork() == 0:",
        "    while True:",
        "        os.write(2, b'e' * 4096)",
        "while True:",
        "    os.write(1, b'o' * 4096)",
      ),
      limits: { outputBytes: 5_000, timeoutMs: 20_000 },
    });
    expect(result.status).toBe("output_limited");
    // The first stream past the cap ends the program; the other is cut where it was.
    expect(result.truncated.stdout || result.truncated.stderr).toBe(true);
    expect(result.stdout).toMatch(/^o{0,5000}$/);
    expect(result.stderr).toMatch(/^e{0,5000}$/);
    if (result.truncated.stdout) expect(result.stdout.length).toBe(5_000);
    if (result.truncated.stderr) expect(result.stderr.length).toBe(5_000);
  });

  it("cuts eight concurrent `yes` writers at exactly outputBytes", async () => {
    const result = await executeAndClean(s, {
      language: "bash",
      code: 'for i in 1 2 3 4 5 6 7 8; do yes "writer $i" & done\nwait\n',
      limits: { outputBytes: 50_000, timeoutMs: 20_000 },
    });
    expect(result.status).toBe("output_limited");
    expect(result.truncated).toEqual({ stdout: true, stderr: false });
    expect(result.stdout.length).toBe(50_000);
    expect(result.stdout).toMatch(/^[writer 1-8\n]+$/);
  });

  it("cuts a multi-byte flood at outputBytes, mid-character, with U+FFFD for the partial one", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "import sys\nsys.stdout.write('\u00e9' * 100_000)\n",
      limits: { outputBytes: 1_025 },
    });
    expect(result.status).toBe("output_limited");
    expect(result.truncated).toEqual({ stdout: true, stderr: false });
    // 1025 bytes kept: 512 two-byte characters and the first byte of the 513th.
    expect(result.stdout).toBe(`${"\u00e9".repeat(512)}\ufffd`);
  });

  it("replaces each invalid UTF-8 byte in stdout and stderr with U+FFFD", async () => {
    const result = await executeAndClean(s, {
      language: "python",
      code: "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end\\n')\nsys.stderr.buffer.write(b'\\xc3( \\x80\\n')\n",
    });
    expect(result).toMatchObject({
      status: "succeeded",
      stdout: "ok \ufffd\ufffd end\n",
      stderr: "\ufffd( \ufffd\n",
      truncated: { stdout: false, stderr: false },
    });
  });

  it("delivers a stdin of the request maximum intact", async () => {
    const stdin = noisyText(REQUEST_MAXIMA.stdinBytes, 7);
    expect(stdin.length).toBe(4 * 1024 * 1024);
    const bytes = Buffer.from(stdin, "utf8");
    const result = await executeAndClean(s, {
      language: "python",
      code: "import hashlib, sys\ndata = sys.stdin.buffer.read()\nprint(len(data), hashlib.sha256(data).hexdigest())\n",
      stdin,
      limits: { timeoutMs: 60_000 },
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.stdout).toBe(`${bytes.length} ${sha256(bytes)}\n`);
  });

  it("ends normally when the program never reads a 4 MiB stdin", async () => {
    const result = await executeAndClean(s, {
      language: "bash",
      code: "echo ignored stdin\n",
      stdin: "z".repeat(REQUEST_MAXIMA.stdinBytes),
    });
    expect(result).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "ignored stdin\n", stderr: "" });
  });

  test.each([
    [
      "python",
      "import hashlib, sys\nargs = sys.argv[1:]\nprint(len(args), hashlib.sha256('\\0'.join(args).encode()).hexdigest())\n",
    ],
    [
      "bash",
      'printf "%s " "$#"\nfor a in "$@"; do printf "%s\\0" "$a"; done | head -c -1 | sha256sum | cut -d" " -f1\n',
    ],
  ] as const)("delivers 64 arguments of 4096 characters intact to %s", async (language, code) => {
    const args = Array.from({ length: REQUEST_MAXIMA.args }, (_, i) => noisyText(REQUEST_MAXIMA.argChars, i + 1));
    const digest = sha256(Buffer.from(args.join("\0"), "utf8"));
    const result = await executeAndClean(s, { language, code, args });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.stdout).toBe(`64 ${digest}\n`);
  });

  it("delivers 64 environment variables of 4096 characters intact", async () => {
    const env = Object.fromEntries(
      Array.from({ length: REQUEST_MAXIMA.envVars }, (_, i) => [
        `ABUSE_${i}`,
        noisyText(REQUEST_MAXIMA.envValueChars, 100 + i),
      ]),
    );
    const joined = Object.keys(env)
      .sort()
      .map((k) => `${k}=${env[k]}`)
      .join("\0");
    const result = await executeAndClean(s, {
      language: "python",
      code: py(
        "import hashlib, os",
        "mine = sorted(k for k in os.environ if k.startswith('ABUSE_'))",
        "print(len(mine), hashlib.sha256('\\0'.join(f'{k}={os.environ[k]}' for k in mine).encode()).hexdigest())",
      ),
      env,
    });
    expect(result).toMatchObject({ status: "succeeded", stderr: "" });
    expect(result.stdout).toBe(`64 ${sha256(Buffer.from(joined, "utf8"))}\n`);
  });

  test.each([
    ["an argument", { args: ["a\u0000b"] }],
    ["an environment value", { env: { NUL_INSIDE: "c\u0000d" } }],
  ] as const)("refuses %s with a NUL byte, which no program can receive, with 400", async (_what, extra) => {
    // execve() cannot carry a NUL in argv or envp. Accepting it means the
    // sandbox fails later in a way that looks like an infrastructure fault.
    for (const [language, code] of [
      ["python", "print('hi')"],
      ["bash", "echo hi"],
    ] as const) {
      const res = await s.api.raw("/v1/executions", JSON.stringify({ language, code, ...extra }));
      const body = (await res.json()) as { status?: string; error?: { code?: string; message?: string } };
      expect({ language, status: res.status, code: body.error?.code }).toEqual({
        language,
        status: 400,
        code: "invalid_request",
      });
    }
  });

  it("still serves a benign execution, then stops clean", () => closeAndCheck(s));
});
