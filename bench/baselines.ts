import { spawn } from "node:child_process";
import { once } from "node:events";
import { PYTHON_IMAGE } from "../scripts/lib/image.ts";
import { docker } from "./docker.ts";
import type { Scenario } from "./measure.ts";
import { BENCH_LABEL, EXPECTED_STDOUT, WORKLOAD } from "./scenarios.ts";

// The plain-Docker baselines the bench compares edgeswarm with: the docker CLI
// (`docker run --rm`, `docker exec`) one run at a time, and a dockerode
// create/start/wait/remove loop for throughput. Every container they make
// carries BENCH_LABEL=<run id>, so cleanup after an interrupt finds it.

const clip = (text: string) => (text.length > 500 ? `${text.slice(0, 500)}...` : text);

/** Runs the docker CLI once; resolves with how long it took, from spawn until it exited and its output was read. */
async function timeCli(args: string[], signal: AbortSignal): Promise<number> {
  const started = performance.now();
  const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"], signal });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  // "close", not "exit": it comes once stdout is fully read too.
  const [code] = (await once(child, "close")) as [number | null];
  const ms = performance.now() - started;
  if (code !== 0 || stdout !== EXPECTED_STDOUT) {
    throw new Error(`docker ${args[0]} exited with ${code}, stdout ${JSON.stringify(stdout)}, stderr ${clip(stderr)}`);
  }
  return ms;
}

const runtimeArgs = (runtime: string | undefined) => (runtime ? ["--runtime", runtime] : []);

/**
 * A plain `docker run --rm --network none` of the same image and code through
 * the docker CLI, from spawn until the CLI exits (with --rm, that is after the
 * container is removed). `runtime` picks the OCI runtime (e.g. runsc).
 */
export function dockerRun(runId: string, runtime?: string, name = "docker-run"): Scenario {
  const args = ["run", "--rm", "--network", "none", ...runtimeArgs(runtime), "--label", `${BENCH_LABEL}=${runId}`];
  args.push(PYTHON_IMAGE, "python3", "-c", WORKLOAD);
  return { name, title: "docker run --rm (CLI)", run: (signal) => timeCli(args, signal), retryOnce: true };
}

/** A long-running container of the sandbox image to `docker exec` into; `remove` it when done. */
export interface ExecTarget {
  id: string;
  remove(): Promise<void>;
}

/** Starts `sleep infinity` in a plain container of the sandbox image (no network), under `runtime`. */
export async function startExecTarget(runId: string, runtime?: string): Promise<ExecTarget> {
  const container = await docker.createContainer({
    Image: PYTHON_IMAGE,
    Cmd: ["sleep", "infinity"],
    Labels: { [BENCH_LABEL]: runId },
    HostConfig: { NetworkMode: "none", ...(runtime ? { Runtime: runtime } : {}) },
  });
  const remove = () => container.remove({ force: true }).then(() => {});
  try {
    await container.start();
  } catch (err) {
    await remove().catch(() => {});
    throw err;
  }
  return { id: container.id, remove };
}

/** `docker exec <id> python3 -c '...'` into an already running container, from spawn until the CLI exits. */
export function dockerExec(target: ExecTarget, name = "docker-exec"): Scenario {
  const args = ["exec", target.id, "python3", "-c", WORKLOAD];
  return { name, title: "docker exec (CLI)", run: (signal) => timeCli(args, signal), retryOnce: true };
}

/**
 * One fresh container through the Docker API (dockerode), as a sandbox-per-
 * execution design without a pool would: create (same image, the workload,
 * no network), start, wait, remove. Throws unless it exited 0.
 */
export async function dockerApiOnce(runId: string): Promise<void> {
  const container = await docker.createContainer({
    Image: PYTHON_IMAGE,
    Cmd: ["python3", "-c", WORKLOAD],
    Labels: { [BENCH_LABEL]: runId },
    HostConfig: { NetworkMode: "none" },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`the container exited with ${StatusCode}`);
  } finally {
    await container.remove({ force: true });
  }
}
