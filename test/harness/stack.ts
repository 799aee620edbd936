import { type AgentOptions, AgentProcess } from "./agent.ts";
import { Api } from "./api.ts";
import { WorkerProcess } from "./worker.ts";

/** Two tenants with their own keys, pools and agent tokens. */
export const TENANTS = {
  a: { key: "test-key-tenant-a-0001", pool: "pool-a", token: "test-token-pool-a-0001" },
  b: { key: "test-key-tenant-b-0002", pool: "pool-b", token: "test-token-pool-b-0002" },
} as const;

/** A secret in the agent's own environment that must never reach a sandbox. */
export const AGENT_SECRET = { name: "EDGESWARM_TEST_HOST_SECRET", value: "host-secret-must-not-leak" } as const;

export interface Stack {
  worker: WorkerProcess;
  agents: AgentProcess[];
  /** Tenant A's API client (pool-a, where the agents are). */
  api: Api;
  /** Tenant B's API client (pool-b). */
  apiB: Api;
  startAgent(options: Partial<AgentOptions> & { id: string }): Promise<AgentProcess>;
  /** The agent with this id (agents start concurrently, so `agents` is in no set order). */
  agent(id: string): AgentProcess;
  /**
   * SIGKILLs the Worker and starts it again on the same port and state, then
   * waits until every agent has dialled back in.
   */
  killAndRestartWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the Worker and `agents` sandbox agents in tenant A's pool. Each agent
 * id is prefixed with `prefix`, so suites can find their own containers.
 */
export async function startStack(
  prefix: string,
  agents = 1,
  capacity = 2,
  vars: Record<string, string> = {},
  extra: {
    /** More API keys, beside tenants A's and B's. */
    apiKeys?: Record<string, { tenant: string; pools: string[] }>;
    /** More agent tokens, beside pool A's and pool B's. */
    agentTokens?: Record<string, string | { pool: string; maxCapacity?: number }>;
  } = {},
): Promise<Stack> {
  const worker = await WorkerProcess.start({
    vars,
    apiKeys: {
      [TENANTS.a.key]: { tenant: "tenant-a", pools: [TENANTS.a.pool] },
      [TENANTS.b.key]: { tenant: "tenant-b", pools: [TENANTS.b.pool] },
      ...extra.apiKeys,
    },
    agentTokens: { [TENANTS.a.token]: TENANTS.a.pool, [TENANTS.b.token]: TENANTS.b.pool, ...extra.agentTokens },
  });
  const started: AgentProcess[] = [];
  const startAgent = async (options: Partial<AgentOptions> & { id: string }) => {
    const agent = await AgentProcess.start({
      url: worker.url,
      token: TENANTS.a.token,
      capacity,
      env: { [AGENT_SECRET.name]: AGENT_SECRET.value },
      ...options,
    });
    started.push(agent);
    return agent;
  };
  try {
    await Promise.all(Array.from({ length: agents }, (_, i) => startAgent({ id: `${prefix}-${i + 1}` })));
  } catch (err) {
    await Promise.all(started.map((a) => a.stop("SIGKILL")));
    await worker.stop();
    throw err;
  }
  return {
    worker,
    agents: started,
    api: new Api(worker.url, TENANTS.a.key),
    apiB: new Api(worker.url, TENANTS.b.key),
    startAgent,
    agent(id) {
      const found = started.find((a) => a.options.id === id);
      if (!found) throw new Error(`no agent ${id} in this stack (${started.map((a) => a.options.id).join(", ")})`);
      return found;
    },
    async killAndRestartWorker() {
      const marks = started.map((a) => a.proc.log.all.length);
      await worker.kill();
      // Same port, same persisted state; restart() only relaunches (the killed group is gone).
      await worker.restart();
      await Promise.all(started.map((a, i) => a.connected(30_000, marks[i])));
    },
    async stop() {
      // Every agent and the Worker are stopped, even when one of them fails to.
      const stopped = await Promise.allSettled(started.map((a) => a.stop("SIGTERM")));
      await worker.stop();
      for (const result of stopped) if (result.status === "rejected") throw result.reason;
    },
  };
}
