import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import type { AgentList, ErrorBody, ExecutionRequestInput, ExecutionResult } from "@edgeswarm/shared";
import { expect } from "vitest";
import type { Api } from "../harness/api.ts";
import { ContainerWatch } from "../harness/container-watch.ts";
import { containersWith } from "../harness/docker.ts";
import { type Stack, startStack } from "../harness/stack.ts";

/** Every abuse case runs under both OCI runtimes. */
export const RUNTIMES = ["runc", "runsc"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/**
 * How late past timeoutMs a timed-out program may end (its durationMs, as the
 * runner measures it). gVisor's timers and kills go through its Sentry, which
 * competes for the same two cores as everything else, so it gets twice the slack.
 */
export function lateMs(runtime: Runtime): number {
  return runtime === "runsc" ? 1_500 : 750;
}

/** One Worker and its agents, all on one runtime, and every container they ever made. */
export interface AbuseStack {
  runtime: Runtime;
  stack: Stack;
  api: Api;
  agentIds: string[];
  containers: ContainerWatch;
  stopped: boolean;
}

/**
 * Starts a Worker and `agents` agents with ids `abuse-<runtime>-<tag>-<n>`, each
 * running its sandboxes under `runtime`.
 */
export async function startAbuseStack(
  runtime: Runtime,
  tag: string,
  { agents = 1, capacity = 2 }: { agents?: number; capacity?: number } = {},
): Promise<AbuseStack> {
  const prefix = `abuse-${runtime}-${tag}`;
  const agentIds = Array.from({ length: agents }, (_, i) => `${prefix}-${i + 1}`);
  const containers = await ContainerWatch.start(agentIds);
  const stack = await startStack(prefix, 0, capacity).catch((err: unknown) => {
    containers.close();
    throw err;
  });
  try {
    await Promise.all(
      agentIds.map((id) => stack.startAgent({ id, args: runtime === "runsc" ? ["--runtime", "runsc"] : [] })),
    );
  } catch (err) {
    containers.close();
    await stack.stop();
    throw err;
  }
  return { runtime, stack, api: stack.api, agentIds, containers, stopped: false };
}

/** Stops the stack (once); for afterAll, in case the closing test did not get to it. */
export async function stopAbuseStack(s: AbuseStack | undefined): Promise<void> {
  if (!s || s.stopped) return;
  s.stopped = true;
  try {
    await s.stack.stop();
  } finally {
    s.containers.close();
  }
}

/** Runs one execution and waits until the container that served it is removed. */
export async function executeAndClean(
  s: AbuseStack,
  request: ExecutionRequestInput,
  goneTimeoutMs = 15_000,
): Promise<ExecutionResult> {
  const result = await s.api.execute(request);
  await s.containers.executionGone(result.id, goneTimeoutMs);
  return result;
}

/**
 * POST /v1/executions with a long queue wait (so it waits its turn in the
 * pool's queue), retrying a 503 no_capacity honestly should that wait end: it
 * waits the Retry-After the Worker sent, at most `maxAttempts` times. Any other
 * non-2xx answer throws.
 */
export async function executeWhenFree(
  api: Api,
  request: ExecutionRequestInput,
  maxAttempts = 120,
): Promise<{ result: ExecutionResult; attempts: number }> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const res = await api.raw("/v1/executions", JSON.stringify({ queueTimeoutMs: 300_000, ...request }));
    const body = (await res.json()) as ExecutionResult | ErrorBody;
    if (res.ok) return { result: body as ExecutionResult, attempts: attempt };
    const code = (body as ErrorBody).error?.code;
    const retryAfter = Number(res.headers.get("Retry-After"));
    if (res.status !== 503 || code !== "no_capacity" || !(retryAfter > 0)) {
      throw new Error(`POST /v1/executions answered ${res.status}: ${JSON.stringify(body)}`);
    }
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
  }
  throw new Error(`still no capacity after ${maxAttempts} attempts`);
}

/** The pids of host processes owned by `uid`, each with the control groups it is in. */
async function hostProcesses(uid: number): Promise<{ pid: number; cgroup: string }[]> {
  const { stdout } = await promisify(execFile)("ps", ["-o", "pid=", "-u", String(uid)]).catch(
    (err: { code?: number; stdout?: string }) => {
      if (err.code === 1) return { stdout: err.stdout ?? "" }; // ps exits 1 when none matched
      throw err;
    },
  );
  const pids = stdout
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
  const out: { pid: number; cgroup: string }[] = [];
  for (const pid of pids) {
    const cgroup = await readFile(`/proc/${pid}/cgroup`, "utf8").catch(() => null);
    if (cgroup !== null) out.push({ pid, cgroup });
  }
  return out;
}

/**
 * The closing checks of a runtime's block: the agents still serve a benign
 * execution, GET /v1/agents lists them connected, and once the stack stops no
 * container of theirs remains and no uid-65534 process of theirs is left on
 * the host. Under runc that process is the sandboxed program itself; under
 * runsc it is gVisor's sandbox (the Sentry runs as nobody in the container's
 * cgroup), whose sandboxed processes exist only inside it. Other uid-65534
 * processes on a shared host (other suites' containers) are told apart by
 * their cgroup; one in no container at all counts against us.
 */
export async function closeAndCheck(s: AbuseStack): Promise<void> {
  // An agent that an earlier case knocked off (that case failed for it) has
  // reconnected by itself; wait for its log to say so rather than fail here too.
  for (const agent of s.stack.agents) {
    const lines = agent.proc.log.all;
    const dropped = lines.findLastIndex((l) => /disconnected/.test(l));
    if (dropped >= 0) await agent.connected(20_000, dropped);
  }
  const benign = await s.api.execute({ language: "python", code: "print(sum(range(10)))" });
  expect(benign).toMatchObject({ status: "succeeded", stdout: "45\n", stderr: "", exitCode: 0 });
  expect(s.agentIds).toContain(benign.agentId);
  await s.containers.executionGone(benign.id);

  const list = (await (await s.api.get("/v1/agents")).json()) as AgentList;
  expect(list.agents.map((a) => a.id).sort()).toEqual([...s.agentIds].sort());
  for (const agent of list.agents) expect(agent.inFlight).toBe(0);

  expect(s.containers.ids.size).toBeGreaterThan(0); // the event watch did see our containers
  await stopAbuseStack(s);
  for (const id of s.agentIds) expect(await containersWith("edgeswarm.agent", id)).toEqual([]);

  const leftovers = (await hostProcesses(65534)).filter(
    ({ cgroup }) => !/docker[-/]/.test(cgroup) || [...s.containers.ids].some((id) => cgroup.includes(id)),
  );
  expect(leftovers).toEqual([]);
}

/** Joins lines of a program (Python, mostly) and ends it with a newline. */
export function py(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}
