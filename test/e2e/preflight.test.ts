import { execFile } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/lib/paths.ts";

const run = promisify(execFile);

// `npm test` on a machine that has Node and a shell but no runsc (no docker on PATH here), no
// Chromium and no Prometheus: vitest itself, asked which suites it would run.
let bare: string;
beforeAll(async () => {
  bare = await mkdtemp(join(tmpdir(), "edgeswarm-bare-"));
  await symlink("/bin/sh", join(bare, "sh"));
});
afterAll(async () => {
  await rm(bare, { recursive: true, force: true });
});

/** vitest with `args`, on the bare machine. */
function vitestBare(args: string[], ci: boolean): Promise<{ code: number; out: string }> {
  const env: Record<string, string> = {
    PATH: bare,
    HOME: process.env.HOME ?? "/root",
    EDGESWARM_CHROMIUM: "/nonexistent",
  };
  if (ci) env.CI = "true";
  const vitest = join(ROOT, "node_modules", "vitest", "vitest.mjs");
  return run(process.execPath, [vitest, ...args], { cwd: ROOT, env }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: err.code ?? 1,
      out: `${err.stdout ?? ""}${err.stderr ?? ""}`,
    }),
  );
}

const listSuites = (ci: boolean) => vitestBare(["list", "--project", "e2e", "--filesOnly"], ci);

describe("the test preflight", () => {
  it("outside CI, leaves out the suites whose pieces are missing", async () => {
    const { code, out } = await listSuites(false);
    expect(code, out).toBe(0);
    expect(out).toContain("test/e2e/executions.test.ts");
    expect(out).not.toContain("test/browser/");
    expect(out).not.toContain("test/abuse/");
    expect(out).not.toContain("test/e2e/agent-metrics.test.ts");
  }, 60_000);

  it("outside CI, a run passes and ends by naming what it left out, why, and how to install it", async () => {
    // Only suites that need a missing piece are asked for: each is left out, and the run still passes.
    const { code, out } = await vitestBare(["run", "--project", "e2e", "--passWithNoTests", "test/abuse/"], false);
    expect(code, out).toBe(0);
    const summary = out.slice(out.indexOf("Left out the suites that need what this machine lacks:"));
    expect(summary.length, out).toBeLessThan(out.length);
    for (const line of [
      "- runsc (gVisor) registered with Docker",
      "needed by test/abuse/**",
      "install: apt-get install -y runsc",
      "- Chromium",
      "install: apt-get install -y chromium",
      "- Prometheus",
    ]) {
      expect(summary).toContain(line);
    }
  }, 60_000);

  it("under CI=true, fails and names each missing piece with the command that installs it", async () => {
    const { code, out } = await listSuites(true);
    expect(code).not.toBe(0);
    for (const piece of ["runsc (gVisor)", "Chromium", "Prometheus", "apt-get install -y chromium"]) {
      expect(out).toContain(piece);
    }
  }, 60_000);
});
