import Docker from "dockerode";
import { executionContainerName, WARM_NAME_PREFIX } from "../../sandbox-agent/src/runtime/container-spec.ts";
import { LineSplitter } from "../../scripts/lib/lines.ts";
import { within } from "../../scripts/lib/wait.ts";

export { executionContainerName };

export const docker = new Docker();

/** How far back Docker's event log is replayed when looking for a container's past. */
const REPLAY_SECONDS = 120;

export type EventStream = NodeJS.ReadableStream & { destroy(): void };
export interface DockerEvent {
  id?: string;
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

/** The ids of containers (any state) carrying `label=value`. */
export async function containersWith(label: string, value: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  return list.map((c) => c.Id);
}

/**
 * Calls `onEvent` for each container event matching `filters`, replaying the
 * last two minutes first unless `replay` is false.
 */
export async function watchEvents(
  filters: Record<string, string[]>,
  onEvent: (event: DockerEvent) => void,
  replay = true,
): Promise<EventStream> {
  const since = replay ? Math.floor(Date.now() / 1000) - REPLAY_SECONDS : undefined;
  const stream = (await docker.getEvents({
    ...(since ? { since } : {}),
    filters: { type: ["container"], ...filters },
  })) as EventStream;
  const lines = new LineSplitter();
  stream.on("data", (chunk: Buffer) => {
    for (const line of lines.push(chunk.toString())) if (line.trim()) onEvent(JSON.parse(line) as DockerEvent);
  });
  return stream;
}

/**
 * Resolves with the id of the container serving `executionId` once it exists:
 * created with its name (a cold start) or renamed to it (a warm one).
 */
export async function executionContainer(executionId: string, timeoutMs = 10_000): Promise<string> {
  const name = executionContainerName(executionId);
  const { promise, resolve } = Promise.withResolvers<string>();
  const stream = await watchEvents({ event: ["create", "rename"] }, (event) => {
    if (event.id && event.Actor?.Attributes?.name === name) resolve(event.id);
  });
  try {
    return await within(promise, timeoutMs, `a container named ${name}`);
  } finally {
    stream.destroy();
  }
}

/**
 * Resolves once the container that served `executionId` has been destroyed,
 * from Docker's events (replayed, so one already gone counts). Rejects after
 * `timeoutMs`, including when no container ever carried the execution's name.
 */
export async function executionContainerGone(executionId: string, timeoutMs = 10_000): Promise<void> {
  const name = executionContainerName(executionId);
  const { promise, resolve } = Promise.withResolvers<void>();
  let id: string | undefined;
  const destroyed = new Set<string>();
  const stream = await watchEvents({ event: ["create", "rename", "destroy"] }, (event) => {
    if (!event.id) return;
    if (event.Action === "destroy") destroyed.add(event.id);
    else if (event.Actor?.Attributes?.name === name) id = event.id;
    if (id && destroyed.has(id)) resolve();
  });
  try {
    await within(promise, timeoutMs, `the container of execution ${executionId} to be removed`);
  } finally {
    stream.destroy();
  }
}

/**
 * Resolves once every container of agent `agentId` is a warm one waiting for
 * work (or there are none): no sandbox that served an execution is left.
 */
export async function agentSandboxesGone(agentId: string, timeoutMs = 10_000): Promise<void> {
  const serving = async () => {
    const list = await docker.listContainers({ all: true, filters: { label: [`edgeswarm.agent=${agentId}`] } });
    return list.filter((c) => !c.Names.some((n) => n.startsWith(`/${WARM_NAME_PREFIX}`))).length;
  };
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const check = () => serving().then((n) => n === 0 && resolve(), reject);
  const stream = await watchEvents({ event: ["destroy"], label: [`edgeswarm.agent=${agentId}`] }, check, false);
  try {
    await check();
    await within(promise, timeoutMs, `agent ${agentId}'s used sandboxes to be removed`);
  } finally {
    stream.destroy();
  }
}

/**
 * Resolves once no container carries `label=value`: at once if none does, else
 * on Docker's `destroy` events for them. Rejects after `timeoutMs`.
 */
export async function containersGone(label: string, value: string, timeoutMs = 10_000): Promise<void> {
  const remaining = new Set<string>();
  const { promise, resolve } = Promise.withResolvers<void>();
  let listed = false;
  const stream = await watchEvents(
    { event: ["destroy"], label: [`${label}=${value}`] },
    (event) => {
      if (event.id) remaining.delete(event.id);
      if (listed && remaining.size === 0) resolve();
    },
    false,
  );
  try {
    for (const id of await containersWith(label, value)) remaining.add(id);
    listed = true;
    if (remaining.size === 0) return;
    await within(promise, timeoutMs, `the containers labelled ${label}=${value} to be removed`);
  } finally {
    stream.destroy();
  }
}

/**
 * Resolves once a container of agent `agentId` serves an execution (carries an
 * execution's name), with its id and the execution's id.
 */
export async function agentExecutionContainer(
  agentId: string,
  timeoutMs = 10_000,
): Promise<{ containerId: string; executionId: string }> {
  const { promise, resolve } = Promise.withResolvers<{ containerId: string; executionId: string }>();
  const consider = (containerId: string | undefined, name: string | undefined) => {
    const match = /^\/?edgeswarm-(ex_[0-9a-f]+)$/.exec(name ?? "");
    if (containerId && match?.[1]) resolve({ containerId, executionId: match[1] });
  };
  const stream = await watchEvents(
    { event: ["create", "rename"], label: [`edgeswarm.agent=${agentId}`] },
    (event) => consider(event.id, event.Actor?.Attributes?.name),
    false,
  );
  try {
    const list = await docker.listContainers({ all: true, filters: { label: [`edgeswarm.agent=${agentId}`] } });
    for (const c of list) for (const name of c.Names) consider(c.Id, name);
    return await within(promise, timeoutMs, `a container of agent ${agentId} to serve an execution`);
  } finally {
    stream.destroy();
  }
}
