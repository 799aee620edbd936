/**
 * Shared by the runtime suites: running one execution on a DockerRuntime, and
 * waiting on the real Docker engine's events. Every wait is bounded and says
 * what it waited for.
 */
import { randomBytes } from "node:crypto";
import { type ExecutionOutcome, type Limits, newExecutionId, type WorkspaceFile } from "@edgeswarm/shared";
import Docker from "dockerode";
import type { DockerRuntime } from "../../sandbox-agent/src/runtime/docker.ts";
import { LABELS, type RunSpec } from "../../sandbox-agent/src/runtime/runtime.ts";
import { LineSplitter } from "../../scripts/lib/lines.ts";

export const IMAGE = "edgeswarm/python:latest";
export const docker = new Docker({ socketPath: "/var/run/docker.sock" });

/** A fresh agent id per suite, so suites never touch each other's containers. */
export function newAgentId(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

export function agentLabel(agentId: string): string {
  return `${LABELS.agent}=${agentId}`;
}

export interface Run {
  executionId: string;
  outcome: ExecutionOutcome;
  stdout: string;
  stderr: string;
  wallMs: number;
}

export interface RunOptions {
  executionId?: string;
  language?: RunSpec["language"];
  limits?: Partial<Limits>;
  files?: WorkspaceFile[];
  stdin?: string;
  args?: string[];
  env?: Record<string, string>;
  image?: string;
  signal?: AbortSignal;
  onOutput?: (stream: "stdout" | "stderr", data: string) => void;
}

/** Runs `code` on `rt` with `base` limits (overridden by opts.limits) and collects its output. */
export async function runOn(rt: DockerRuntime, base: Limits, code: string, opts: RunOptions = {}): Promise<Run> {
  const spec: RunSpec = {
    executionId: opts.executionId ?? newExecutionId(),
    language: opts.language ?? "python",
    code,
    files: opts.files ?? [],
    args: opts.args ?? [],
    env: opts.env ?? {},
    limits: { ...base, ...opts.limits },
    image: opts.image ?? IMAGE,
    ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
  };
  let stdout = "";
  let stderr = "";
  const started = performance.now();
  const outcome = await rt.run(
    spec,
    (stream, data) => {
      if (stream === "stdout") stdout += data;
      else stderr += data;
      opts.onOutput?.(stream, data);
    },
    opts.signal ?? new AbortController().signal,
  );
  return { executionId: spec.executionId, outcome, stdout, stderr, wallMs: performance.now() - started };
}

export interface DockerEvent {
  id?: string;
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

export class TimeoutError extends Error {}

/** Rejects with a TimeoutError naming `what` if `promise` does not settle within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`waited ${timeoutMs} ms for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `onEvent` for each container event matching `filters` (replayed from `since`, Unix seconds, when given). */
export async function subscribe(
  filters: Record<string, string[]>,
  onEvent: (event: DockerEvent) => void,
  onError: (err: unknown) => void,
  since?: number,
): Promise<() => void> {
  const stream = (await docker.getEvents({
    ...(since === undefined ? {} : { since }),
    filters: { type: ["container"], ...filters },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const lines = new LineSplitter();
  stream.on("data", (chunk: Buffer) => {
    for (const line of lines.push(chunk.toString("utf8"))) {
      if (line.trim() === "") continue;
      try {
        onEvent(JSON.parse(line) as DockerEvent);
      } catch (err) {
        onError(err);
      }
    }
  });
  stream.on("error", onError);
  return () => stream.destroy();
}

/**
 * Subscribes to container events matching `filters` (replayed from `since`
 * when given) and resolves with the first non-undefined answer of `onEvent`,
 * or of `check` (called once subscribed, so nothing between the two is
 * missed). Rejects after `timeoutMs` naming `what`.
 */
export async function awaitEvents<T>(opts: {
  /** What is awaited, for the timeout's message; a function is asked when the time is up. */
  what: string | (() => string);
  timeoutMs: number;
  filters: Record<string, string[]>;
  since?: number;
  onEvent: (event: DockerEvent) => T | undefined;
  check?: () => Promise<T | undefined>;
}): Promise<T> {
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  promise.catch(() => {}); // a stream error before `within` listens is still reported, by `within`
  const stop = await subscribe(
    opts.filters,
    (event) => {
      const answer = opts.onEvent(event);
      if (answer !== undefined) resolve(answer);
    },
    reject,
    opts.since,
  );
  try {
    const now = await opts.check?.();
    if (now !== undefined) return now;
    return await within(promise, opts.timeoutMs, "").catch((err: unknown) => {
      if (err instanceof TimeoutError) {
        throw new Error(`waited ${opts.timeoutMs} ms for ${typeof opts.what === "string" ? opts.what : opts.what()}`);
      }
      throw err;
    });
  } finally {
    stop();
  }
}

/** Resolves once no container carries `label`: at once if none is listed, else on each one's destroy event. */
export async function awaitGone(label: string, timeoutMs = 15_000): Promise<void> {
  let waiting: Set<string> | undefined;
  await awaitEvents<true>({
    what: () => `the Docker destroy events of container(s) ${[...(waiting ?? [])].join(", ")} labelled ${label}`,
    timeoutMs,
    filters: { event: ["destroy"], label: [label] },
    onEvent: (event) => {
      if (event.id) waiting?.delete(event.id);
      return waiting?.size === 0 ? true : undefined;
    },
    check: async () => {
      const present = await docker.listContainers({ all: true, filters: { label: [label] } });
      waiting = new Set(present.map((c) => c.Id));
      return waiting.size === 0 ? true : undefined;
    },
  });
}

/** Resolves once the container `id` is destroyed (at once if it no longer exists). */
export async function awaitDestroyed(id: string, timeoutMs = 15_000): Promise<void> {
  await awaitEvents<true>({
    what: `the Docker destroy event of container ${id}`,
    timeoutMs,
    filters: { event: ["destroy"], container: [id] },
    onEvent: () => true,
    check: async () => ((await exists(id)) ? undefined : true),
  });
}

export async function exists(id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** The container that served an execution, from Docker's create and rename events. */
export interface Served {
  id: string;
  /** The warm name it had before it was renamed for the execution; undefined for a cold container. */
  warmName: string | undefined;
}

/**
 * Resolves with the container named `edgeswarm-<executionId>`: created with
 * that name (a cold start) or renamed to it (a warm container handed out).
 * Replays the agent's events from `since` (Unix seconds), so it works after
 * the container is gone.
 */
export async function servedBy(
  agentId: string,
  executionId: string,
  since: number,
  timeoutMs = 10_000,
): Promise<Served> {
  const name = `edgeswarm-${executionId}`;
  return awaitEvents<Served>({
    what: `a container named ${name}`,
    timeoutMs,
    since,
    filters: { event: ["create", "rename"], label: [agentLabel(agentId)] },
    onEvent: (event) => {
      const attrs = event.Actor?.Attributes ?? {};
      if (!event.id || attrs.name !== name) return undefined;
      return { id: event.id, warmName: event.Action === "rename" ? attrs.oldName?.replace(/^\//, "") : undefined };
    },
  });
}

/** Ids of the agent's running containers that still carry a warm name (waiting for work). */
export async function warmContainers(agentId: string): Promise<string[]> {
  const list = await docker.listContainers({
    filters: { label: [agentLabel(agentId)], name: ["edgeswarm-warm-"], status: ["running"] },
  });
  return list.filter((c) => c.Names.some((n) => n.startsWith("/edgeswarm-warm-"))).map((c) => c.Id);
}

/**
 * Resolves once `rt.warm` is `size`. Woken by each of the agent's container
 * events (a warm container starting, dying or going); between the engine's
 * event and the runtime's own bookkeeping (its start call returning) there are
 * a few ms, so the getter is also polled every 10 ms. Bounded by `timeoutMs`.
 */
export async function untilWarm(rt: DockerRuntime, agentId: string, size: number, timeoutMs = 30_000): Promise<void> {
  if (rt.warm === size) return;
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  promise.catch(() => {}); // reported by `within` below
  const check = () => {
    if (rt.warm === size) resolve();
  };
  const stop = await subscribe({ event: ["start", "die", "destroy"], label: [agentLabel(agentId)] }, check, reject);
  const tick = setInterval(check, 10);
  try {
    check();
    await within(promise, timeoutMs, `${size} warm container(s) ready for agent ${agentId}`).catch((err: Error) => {
      throw new Error(`${err.message} (the runtime reports ${rt.warm})`);
    });
  } finally {
    clearInterval(tick);
    stop();
  }
}

/** Now in Unix seconds, a second back: a `since` from which event replays miss nothing that follows. */
export function sinceNow(): number {
  return Math.floor(Date.now() / 1000) - 1;
}
