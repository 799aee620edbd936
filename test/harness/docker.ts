import Docker from "dockerode";
import { within } from "../../scripts/lib/wait.ts";

export const docker = new Docker();

/** The ids of containers (any state) carrying `label=value`. */
export async function containersWith(label: string, value: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  return list.map((c) => c.Id);
}

/**
 * Resolves once no container carries `label=value`: at once if none does, else
 * on Docker's `destroy` events for them. Rejects after `timeoutMs`.
 */
export async function containersGone(label: string, value: string, timeoutMs = 10_000): Promise<void> {
  const stream = (await docker.getEvents({
    filters: { type: ["container"], event: ["destroy"], label: [`${label}=${value}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  try {
    const remaining = new Set(await containersWith(label, value));
    if (remaining.size === 0) return;
    await within(
      new Promise<void>((resolve) => {
        stream.on("data", (chunk: Buffer) => {
          for (const line of chunk.toString().split("\n")) {
            if (!line.trim()) continue;
            const event = JSON.parse(line) as { id?: string };
            if (event.id) remaining.delete(event.id);
          }
          if (remaining.size === 0) resolve();
        });
      }),
      timeoutMs,
      `the containers labelled ${label}=${value} to be removed`,
    );
  } finally {
    stream.destroy();
  }
}

/** Waits until a container labelled `label=value` exists (Docker's `create` event). */
export async function containerAppears(label: string, value: string, timeoutMs = 10_000): Promise<string> {
  const stream = (await docker.getEvents({
    filters: { type: ["container"], event: ["start"], label: [`${label}=${value}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  try {
    const existing = await docker.listContainers({ filters: { label: [`${label}=${value}`] } });
    if (existing[0]) return existing[0].Id;
    return await within(
      new Promise<string>((resolve) => {
        stream.on("data", (chunk: Buffer) => {
          const event = JSON.parse(chunk.toString().split("\n")[0] ?? "{}") as { id?: string };
          if (event.id) resolve(event.id);
        });
      }),
      timeoutMs,
      `a running container labelled ${label}=${value}`,
    );
  } finally {
    stream.destroy();
  }
}
