import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionContainerGone } from "../harness/docker.ts";
import { type Stack, startStack } from "../harness/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack("e2e-limits", 1, 2);
});
afterAll(async () => {
  await stack?.stop();
});

/** After every limit, the same agent serves the next execution normally. */
async function expectHealthy() {
  const next = await stack.api.execute({ language: "python", code: "print('still fine')" });
  expect(next).toMatchObject({ status: "succeeded", stdout: "still fine\n", agentId: "e2e-limits-1" });
}

describe("limits", () => {
  it("ends an infinite loop at timeoutMs with timed_out, and removes its container", async () => {
    const t0 = performance.now();
    const result = await stack.api.execute({
      language: "python",
      code: "while True:\n    pass\n",
      limits: { timeoutMs: 1000 },
    });
    const elapsed = performance.now() - t0;
    expect(result.status).toBe("timed_out");
    expect(result.exitCode).toBeNull();
    // The program ran for its 1 s; the whole request (container start included) ended soon after.
    expect(result.durationMs).toBeGreaterThanOrEqual(1000);
    expect(result.durationMs).toBeLessThan(1500);
    expect(elapsed).toBeLessThan(2500);
    await executionContainerGone(result.id, 5_000);
    await expectHealthy();
  });

  it("ends a memory bomb with oom_killed", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))\n",
      limits: { memoryMb: 64, timeoutMs: 20_000 },
    });
    expect(result.status).toBe("oom_killed");
    await executionContainerGone(result.id);
    await expectHealthy();
  });

  it("ends a print flood with output_limited and exactly outputBytes of output", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: "while True:\n    print('x' * 1000)\n",
      limits: { outputBytes: 10_000, timeoutMs: 20_000 },
    });
    expect(result.status).toBe("output_limited");
    expect(result.truncated).toEqual({ stdout: true, stderr: false });
    expect(result.stdout.length).toBe(10_000);
    expect(result.stdout.startsWith("x".repeat(1000))).toBe(true);
    await executionContainerGone(result.id);
    await expectHealthy();
  });
});

describe("per-request limits", () => {
  it("reach the sandbox: rlimits, tmpfs sizes, memory and returned-file caps as the request set them", async () => {
    const result = await stack.api.execute({
      language: "python",
      code: [
        "import os, resource",
        "print(resource.getrlimit(resource.RLIMIT_NOFILE))",
        "print(resource.getrlimit(resource.RLIMIT_FSIZE))",
        "for path in ('/workspace', '/tmp', '/dev/shm'):",
        "    st = os.statvfs(path)",
        "    print(path, st.f_blocks * st.f_frsize // (1024 * 1024))",
        "for cg in ('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'):",
        "    if os.path.exists(cg):",
        "        print('memory', int(open(cg).read()) // (1024 * 1024))",
        "for name in ('a', 'b', 'c'):",
        "    open(name, 'w').write(name)",
      ].join("\n"),
      limits: { openFiles: 32, fileSizeMb: 2, workspaceMb: 3, tmpMb: 4, shmMb: 5, returnedFiles: 1, memoryMb: 96 },
    });
    expect(result.status).toBe("succeeded");
    expect(result.stdout).toBe(
      [
        `(32, 32)`,
        `(${2 * 1024 * 1024}, ${2 * 1024 * 1024})`,
        "/workspace 3",
        "/tmp 4",
        "/dev/shm 5",
        "memory 96",
        "",
      ].join("\n"),
    );
    expect(result.files).toEqual([{ path: "a", content: "a", encoding: "utf8" }]);
    expect(result.error).toMatchObject({ code: "files_truncated" });
  });
});
