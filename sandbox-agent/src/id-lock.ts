import { createServer, type Server } from "node:net";

/** Another agent on this host holds the id. */
export class IdInUse extends Error {
  override name = "IdInUse";
}

/**
 * Holds this host's claim on an agent id for as long as the process lives:
 * a Unix socket bound in Linux's abstract namespace, which the kernel frees
 * when the process exits, however it exits. A second agent with the same id
 * on the same host (say, two started with the default id, the host name) would
 * reap the first one's containers; it is refused instead. Where the abstract
 * namespace does not exist (not Linux), nothing is held.
 */
export async function holdIdLock(agentId: string): Promise<Server | null> {
  if (process.platform !== "linux") return null;
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ path: `\0edgeswarm-agent:${agentId}` }, resolve);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new IdInUse(
        `another edgeswarm-agent with id '${agentId}' runs on this host; give each agent its own --id (EDGESWARM_AGENT_ID)`,
      );
    }
    throw err;
  }
  server.unref();
  return server;
}
