import { CONTAINER_LIMITS, LIMITS, type Limits } from "@edgeswarm/shared";
import type Dockerode from "dockerode";
import { LABELS, type RunSpec } from "./runtime.ts";

const MiB = 1024 * 1024;

/**
 * The limits a container is created with (cgroup and mounts). Everything else
 * the runner applies per execution, so one warm container suits any request
 * of the same shape.
 */
export type ContainerShape = Pick<Limits, (typeof CONTAINER_LIMITS)[number]>;

export function shapeOf(limits: Limits): ContainerShape {
  return Object.fromEntries(CONTAINER_LIMITS.map((name) => [name, limits[name]])) as ContainerShape;
}

/** Identifies the warm containers that can serve an image and shape. */
export function shapeKey(image: string, shape: ContainerShape): string {
  return `${image} ${CONTAINER_LIMITS.map((name) => `${name}=${shape[name]}`).join(" ")}`;
}

/** The name a container carries once it serves an execution (`docker ps` shows it). */
export function executionContainerName(executionId: string): string {
  return `edgeswarm-${executionId}`;
}

/** Names of warm containers, which serve no execution yet, start with this. */
export const WARM_NAME_PREFIX = "edgeswarm-warm-";

/**
 * The container starts as root so the runner (PID 1) can set itself apart
 * from the user's program: it keeps a uid of its own and drops every
 * capability before reading a request; the program runs as nobody (65534).
 * See become_runner_user in runner.py.
 */
const RUNNER_START_USER = "0:0";
/** The capabilities the runner needs for that, and drops at once. */
const RUNNER_START_CAPS = ["SETUID", "SETGID", "SETPCAP"];

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Under gVisor the pids cgroup counts the sandbox kernel's own host tasks: an
 * idle sandbox holds 38, each sleeping process inside adds about 5, and a bash
 * fork bomb held to 127 processes peaked at 1,544 on a quiet host and at 2,376
 * on a busy one (Debian's runsc 20221219, ptrace platform). Where the cgroup
 * stops it first, the sandbox kernel panics ("error initializing first thread:
 * resource temporarily unavailable", exit 2) instead of the program seeing
 * EAGAIN, so the cgroup gets twice the busy peak's room, and the runner
 * enforces `pids` inside with RLIMIT_NPROC, which gVisor counts per sandbox.
 * Under runc RLIMIT_NPROC would count every uid-65534 process on the host, so
 * there the cgroup alone does it.
 */
const GVISOR_BASE_TASKS = 64;
const GVISOR_TASKS_PER_PROCESS = 32;

/** Whether an OCI runtime name is gVisor's (`runsc`, as it is registered here and in its docs). */
export function isGvisor(runtime: string | undefined): boolean {
  return runtime !== undefined && /runsc|gvisor/i.test(runtime);
}

function hostPidsLimit(pids: number, runtime: string | undefined): number {
  return isGvisor(runtime) ? GVISOR_BASE_TASKS + GVISOR_TASKS_PER_PROCESS * pids : pids;
}

/** What the container needs beyond the execution itself. */
export interface SpecOptions {
  agentId: string;
  runnerSource: string;
  /** OCI runtime name (e.g. "runsc"); Docker's default when absent. */
  runtime?: string | undefined;
  /** Modules the runner's waiting interpreter imports before the request (warm containers only). */
  preload?: readonly string[] | undefined;
}

function tmpfs(bytes: number): string {
  // Docker also applies these by default; spelled out so the intent survives a daemon change.
  return `rw,nosuid,nodev,noexec,size=${bytes},uid=65534,gid=65534,mode=0700`;
}

/**
 * The createContainer body for one sandbox: no network, no privilege, no host
 * path, every container limit set. `name` is given when the execution is known
 * at creation (a cold start); warm containers are renamed when handed out.
 */
export function containerSpec(
  image: string,
  shape: ContainerShape,
  opts: SpecOptions,
  name?: string,
): Dockerode.ContainerCreateOptions & { name?: string } {
  const memory = shape.memoryMb * MiB;
  const hostConfig: Dockerode.HostConfig = {
    NetworkMode: "none",
    ReadonlyRootfs: true,
    Tmpfs: { "/workspace": tmpfs(shape.workspaceMb * MiB), "/tmp": tmpfs(shape.tmpMb * MiB) },
    ShmSize: shape.shmMb * MiB,
    IpcMode: "private",
    CapDrop: ["ALL"],
    CapAdd: RUNNER_START_CAPS,
    SecurityOpt: ["no-new-privileges"],
    Privileged: false,
    Memory: memory,
    MemorySwap: memory, // equal to Memory: no swap
    NanoCpus: Math.round(shape.cpus * 1e9),
    PidsLimit: hostPidsLimit(shape.pids, opts.runtime),
    // The most any request may have; the runner lowers both for the user's program.
    Ulimits: [
      { Name: "nofile", Soft: LIMITS.openFiles.max, Hard: LIMITS.openFiles.max },
      { Name: "fsize", Soft: LIMITS.fileSizeMb.max * MiB, Hard: LIMITS.fileSizeMb.max * MiB },
      // No core files: a crashing program must not hand up to memoryMb to the host's core handler.
      { Name: "core", Soft: 0, Hard: 0 },
    ],
    // Output travels over attach only; the default json-file log would keep a
    // copy of every flood on the host's disk.
    LogConfig: { Type: "none", Config: {} },
    AutoRemove: false,
    Init: false, // the runner is PID 1: its kill(-1) and OOM reading depend on it
  };
  if (opts.runtime) hostConfig.Runtime = opts.runtime;
  return {
    ...(name ? { name } : {}),
    Image: image,
    Entrypoint: ["python3"],
    Cmd: ["-I", "-c", opts.runnerSource, ...(opts.preload?.length ? ["--preload", opts.preload.join(",")] : [])],
    User: RUNNER_START_USER,
    Env: [`PATH=${PATH}`, "LANG=C.UTF-8"],
    WorkingDir: "/workspace",
    Hostname: "sandbox",
    Labels: { [LABELS.managed]: "true", [LABELS.agent]: opts.agentId },
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: true,
    HostConfig: hostConfig,
  };
}

/**
 * The runner's request: its byte length in decimal, a newline, then the JSON.
 * `runtime` is the container's OCI runtime (see hostPidsLimit).
 */
export function runnerRequest(spec: RunSpec, runtime: string | undefined): Buffer {
  const body = Buffer.from(
    JSON.stringify({
      language: spec.language,
      code: spec.code,
      files: spec.files.map((f) => ({
        path: f.path,
        b64: (f.encoding === "base64" ? Buffer.from(f.content, "base64") : Buffer.from(f.content, "utf8")).toString(
          "base64",
        ),
      })),
      stdin_b64: Buffer.from(spec.stdin ?? "", "utf8").toString("base64"),
      args: spec.args,
      env: spec.env,
      timeout_ms: spec.limits.timeoutMs,
      output_bytes: spec.limits.outputBytes,
      open_files: spec.limits.openFiles,
      // The runner runs as a uid of its own, so the program may have one process fewer.
      max_processes: isGvisor(runtime) ? spec.limits.pids - 1 : null,
      file_size_bytes: spec.limits.fileSizeMb * MiB,
      max_files: spec.limits.returnedFiles,
      max_file_bytes: spec.limits.returnedFileBytes,
      max_total_file_bytes: spec.limits.returnedTotalBytes,
    }),
    "utf8",
  );
  return Buffer.concat([Buffer.from(`${body.length}\n`, "ascii"), body]);
}

/** A one-line cause for a failed Docker call, with the fix where there is an obvious one. */
export function describeDockerError(err: unknown, step: string, image: string): string {
  const e = err as { statusCode?: number; code?: string; message?: string; json?: { message?: string } };
  const detail = e?.json?.message ?? e?.message ?? String(err);
  if (e?.statusCode === 404 && /no such image/i.test(detail)) {
    return `image ${image} not found; build it with npm run image:offline`;
  }
  if (e?.code === "ECONNREFUSED" || e?.code === "ENOENT" || e?.code === "EACCES") {
    return `cannot reach the Docker engine (${e.code}) while trying to ${step}: is Docker running, and may this user use its socket?`;
  }
  return `docker could not ${step}: ${detail}`;
}
