import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The Python SDK's folder: its package, its tests and its README. */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "clients", "python");

/**
 * Debian's python3, which the SDK promises to work with. A pyenv shim may come
 * first on PATH on a developer's machine; /usr/bin/python3 is Debian's own.
 */
export const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

export interface PythonRun {
  code: number | null;
  /** stdout and stderr interleaved, as a terminal would show them. */
  output: string;
}

/**
 * Runs `python3 <args>` in `cwd` with only `env` (and PATH) set, and resolves
 * when it exits. After `timeoutMs` it is killed, and the promise rejects with
 * what it printed so far (unittest -v names each test before it runs, so a
 * hang names its test).
 */
export function python(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs: number },
): Promise<PythonRun> {
  const child = spawn(PYTHON, args, {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LANG: "C.UTF-8",
      // No __pycache__ left in the repository; output as it happens.
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONUNBUFFERED: "1",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (d: string) => {
    output += d;
  };
  child.stdout.setEncoding("utf8").on("data", collect);
  child.stderr.setEncoding("utf8").on("data", collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out after ${options.timeoutMs} ms waiting for python3 ${args.join(" ")}:\n${output}`));
    }, options.timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${PYTHON} did not start (${err.message}); .ci/run installs Debian's python3`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
