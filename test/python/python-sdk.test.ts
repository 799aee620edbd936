import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startModels } from "../client/models.ts";
import type { FakeModels } from "../fakes/models.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { PACKAGE_DIR, PYTHON, python } from "./python.ts";

// The Python SDK (clients/python) with Debian's python3, against the real
// Worker, an agent and Docker, with the fake model servers of the SDK suite:
// a planner that makes one step, and a coder that prints 55 and finishes.
// Each case runs one of the SDK's unittest modules.
let stack: Stack;
let models: FakeModels;

beforeAll(async () => {
  models = await startModels();
  stack = await startStack("python-sdk", 1, 2, models.vars);
});
afterAll(async () => {
  await stack?.stop();
  await models?.close();
});

/** `python3 -m unittest -v tests.<module>`, passing when every test in it passes. */
async function unittest(module: string, timeoutMs: number): Promise<void> {
  const run = await python(["-m", "unittest", "-v", `tests.${module}`], {
    cwd: PACKAGE_DIR,
    env: { EDGESWARM_URL: stack.worker.url, EDGESWARM_API_KEY: TENANTS.a.key },
    timeoutMs,
  });
  expect(run.code, run.output).toBe(0);
  expect(run.output).toMatch(/^OK$/m);
}

describe("Python SDK", () => {
  it("is Python 3.9 or newer, Debian's", async () => {
    const run = await python(["-c", "import sys; print(sys.version_info >= (3, 9), sys.executable)"], {
      cwd: PACKAGE_DIR,
      timeoutMs: 10_000,
    });
    expect(run.output.trim()).toBe(`True ${PYTHON}`);
  });

  // Each module's own bound sits under its case's, so a hang reports which test it was in.
  const T = 10_000;
  it(
    "parses SSE, maps errors and imports only the standard library (no server)",
    () => unittest("test_offline", 30_000),
    30_000 + T,
  );
  it(
    "has dataclasses with exactly the fields of the Worker's OpenAPI document",
    () => unittest("test_contract", 30_000),
    30_000 + T,
  );
  it("runs and streams executions", () => unittest("test_executions", 90_000), 90_000 + T);
  it(
    "raises typed errors: 401, 400 with details, 404, 409, unreachable",
    () => unittest("test_errors", 90_000),
    90_000 + T,
  );
  it("creates, lists, approves and waits for runs", () => unittest("test_runs", 240_000), 240_000 + T);
  it("resumes a run's event stream after the connection is cut", () => unittest("test_events", 90_000), 90_000 + T);
  it("continues an ended run with send()", () => unittest("test_send", 90_000), 90_000 + T);
  it("runs the README's examples as written", () => unittest("test_readme", 240_000), 240_000 + T);

  it("builds a wheel with Debian's setuptools, offline", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edgeswarm-py-wheel-"));
    try {
      // setuptools writes build/ and *.egg-info beside the sources: build a copy.
      const src = join(dir, "src");
      await cp(PACKAGE_DIR, src, { recursive: true, filter: (p) => !p.includes("__pycache__") });
      const out = join(dir, "wheels");
      const build = await python(
        ["-c", "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))", out],
        { cwd: src, timeoutMs: 60_000 },
      );
      expect(build.code, build.output).toBe(0);
      expect(await readdir(out)).toEqual(["edgeswarm-0.1.0-py3-none-any.whl"]);
      // The wheel alone (zipimport) is the package, typed.
      const wheel = join(out, "edgeswarm-0.1.0-py3-none-any.whl");
      const probe = await python(
        [
          "-S",
          "-c",
          "import sys, zipfile; sys.path.insert(0, sys.argv[1]); import edgeswarm; " +
            "print(edgeswarm.__version__, 'edgeswarm/py.typed' in zipfile.ZipFile(sys.argv[1]).namelist())",
          wheel,
        ],
        { cwd: dir, timeoutMs: 10_000 },
      );
      expect(probe.output.trim()).toBe("0.1.0 True");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
