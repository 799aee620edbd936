import { AgentList, type AgentSummary } from "@edgeswarm/shared";
import type { CallOptions, Transport } from "./transport.ts";

/** The sandbox agents connected to the tenant's pools. */
export class Agents {
  readonly #t: Transport;

  /** @internal */
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** @example const agents = await swarm.agents.list(); */
  async list(options: CallOptions = {}): Promise<AgentSummary[]> {
    return (await this.#t.json(AgentList, "/v1/agents", { signal: options.signal })).agents;
  }
}
