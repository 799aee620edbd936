import type { AgentHealth, AgentSandboxes, AgentSummary, Hello, Language } from "@edgeswarm/shared";

/**
 * What the PoolDO keeps about each agent socket, in the socket's hibernation
 * attachment so it survives the object being evicted while agents stay connected.
 * The attachment holds at most 2,048 bytes serialised: what an agent's images
 * hold is kept in storage instead (sandbox-store.ts).
 */
export interface SocketState {
  /** Random per connection: leases name the connection, not just the agent id. */
  connId: string;
  pool: string;
  /** The agent token it connected with (a non-secret id): an agent id belongs to the token that holds it. */
  tokenId: string;
  /** The most capacity the token allows. */
  maxCapacity: number;
  connectedAt: number;
  lastSeen: number;
  badFrames: number;
  /** Set once the agent said a valid hello. */
  agent?: AgentInfo;
}

export interface AgentInfo {
  id: string;
  version: string;
  capacity: number;
  labels: Record<string, string>;
  images: Partial<Record<Language, string>>;
  reportedInFlight: number;
  draining: boolean;
  /** It has acknowledged a lease: until then it may hold only one at a time. */
  trusted: boolean;
  /** It let a lease go unacknowledged and has not spoken since: it gets nothing. */
  benched: boolean;
  health?: AgentHealth;
}

// The attachment holds only our key, so that a field the runtime or a later version adds never collides with ours.
interface Attachment {
  edgeswarm: SocketState;
}

export function readState(ws: WebSocket): SocketState | undefined {
  const attachment = ws.deserializeAttachment() as Attachment | null;
  return attachment?.edgeswarm;
}

export function writeState(ws: WebSocket, state: SocketState): void {
  ws.serializeAttachment({ edgeswarm: state } satisfies Attachment);
}

export function agentFromHello(hello: Hello, maxCapacity: number): AgentInfo {
  return {
    id: hello.agentId,
    version: hello.version,
    capacity: Math.min(hello.capacity, maxCapacity),
    labels: hello.labels,
    images: hello.images,
    reportedInFlight: hello.inFlight,
    draining: false,
    trusted: false,
    benched: false,
  };
}

export function toSummary(
  state: SocketState & { agent: AgentInfo },
  inFlight: number,
  sandboxes: AgentSandboxes | undefined,
): AgentSummary {
  return {
    id: state.agent.id,
    pool: state.pool,
    version: state.agent.version,
    capacity: state.agent.capacity,
    inFlight,
    labels: state.agent.labels,
    languages: Object.keys(state.agent.images) as Language[],
    connectedAt: new Date(state.connectedAt).toISOString(),
    lastHeartbeatAt: new Date(state.lastSeen).toISOString(),
    ...(state.agent.health ? { health: state.agent.health } : {}),
    ...(sandboxes ? { sandboxes } : {}),
  };
}
