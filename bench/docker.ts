import Docker from "dockerode";
import { PYTHON_IMAGE } from "../scripts/lib/image.ts";

/** The local Docker engine (DOCKER_HOST is honoured, as by the agent and the CLI). */
export const docker = new Docker();

/**
 * Fails early and clearly when the engine or the sandbox image is missing. The
 * image is not built here: building could reach a registry, and the bench talks
 * only to loopback and the local engine.
 */
export async function preflight(): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`cannot reach the Docker engine (${(err as Error).message}); is dockerd running?`);
  }
  try {
    await docker.getImage(PYTHON_IMAGE).inspect();
  } catch {
    throw new Error(`the sandbox image ${PYTHON_IMAGE} is not on this host; build it with \`npm run image:offline\``);
  }
}

/** The containers, in any state, carrying `label=value`. */
export async function containersWith(label: string, value: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  return list.map((c) => c.Id);
}

/** Force-removes every container carrying `label=value`; returns how many there were. */
export async function removeContainers(label: string, value: string): Promise<number> {
  const ids = await containersWith(label, value);
  const remove = (id: string) => docker.getContainer(id).remove({ force: true });
  await Promise.allSettled(ids.map(remove)); // one already gone (--rm, the agent) is fine
  return ids.length;
}
