import type { AgentHealth, AgentSummary, Hello, Language } from "@edgeswarm/shared";

/**
 * What the PoolDO keeps about each agent socket, in the socket's hibernation
 * attachment so it survives the object being evicted while agents stay connected.
 */
export interface SocketState {
  /** Random per connection: leases name the connection, not just the agent id. */
  connId: string;
  pool: string;
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
  health?: AgentHealth;
}

// The attachment holds only our key, so a future field never collides (STYLE).
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

export function agentFromHello(hello: Hello): AgentInfo {
  return {
    id: hello.agentId,
    version: hello.version,
    capacity: hello.capacity,
    labels: hello.labels,
    images: hello.images,
    reportedInFlight: hello.inFlight,
    draining: false,
  };
}

export function toSummary(state: SocketState & { agent: AgentInfo }, inFlight: number): AgentSummary {
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
  };
}
