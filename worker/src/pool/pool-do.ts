import { DurableObject } from "cloudflare:workers";
import {
  AgentFrame,
  type AgentList,
  CLOSE_CODES,
  type ExecutionSummary,
  type Language,
  PROTOCOL_VERSION,
  parseFrame,
  type WorkerFrame,
} from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { type Answer, EdgeswarmError, refusal } from "../errors.ts";
import { type AgentInfo, agentFromHello, readState, type SocketState, toSummary, writeState } from "./agents.ts";
import { type AgentSlot, Dispatcher } from "./dispatcher.ts";
import { ExecuteInput, type ExecutionSink } from "./rpc.ts";

/** How often agents heartbeat; the Worker tells them in `worker.welcome`. */
export const HEARTBEAT_MS = 5_000;
/** An agent silent for this long is closed and its executions fail `agent_lost`. */
export const AGENT_SILENCE_MS = 3 * HEARTBEAT_MS;
/** A socket that has not said hello by then is closed. */
export const HELLO_TIMEOUT_MS = 10_000;
/** Malformed frames tolerated from one connection before it is closed. */
const MAX_BAD_FRAMES = 20;

/** The headers the Worker's connect route sets for the PoolDO (never a client's own). */
export const CONNECT_HEADERS = { pool: "x-edgeswarm-pool" } as const;

interface Socket {
  ws: WebSocket;
  state: SocketState;
}

/**
 * One sandbox pool: the agent sockets (Hibernation API), their hello and
 * heartbeats, and the sweep alarm. A thin shell: the queue, quotas and leases
 * are the dispatcher's (dispatcher.ts), the choice of agent scheduler.ts,
 * socket state agents.ts. The Worker reaches it through RPC (client.ts);
 * `fetch` is only the agents' WebSocket upgrade.
 */
export class PoolDO extends DurableObject<Env> {
  /** Every socket of ours, by connection id: rebuilt from the attachments when the object wakes. */
  readonly #sockets = new Map<string, Socket>();
  readonly #dispatcher: Dispatcher;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const ws of ctx.getWebSockets()) {
      const state = readState(ws);
      if (state) this.#sockets.set(state.connId, { ws, state });
    }
    this.#dispatcher = new Dispatcher({
      slots: () => this.#slots(),
      send: (connId, frame) => {
        const socket = this.#sockets.get(connId);
        return socket ? send(socket.ws, frame) : false;
      },
    });
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const pool = request.headers.get(CONNECT_HEADERS.pool) ?? "";
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    const state: SocketState = { connId: crypto.randomUUID(), pool, connectedAt: now, lastSeen: now, badFrames: 0 };
    writeState(server, state);
    this.#sockets.set(state.connId, { ws: server, state });
    this.#scheduleSweep();
    return new Response(null, { status: 101, webSocket: client });
  }

  // --- RPC ----------------------------------------------------------------------------

  /** The agents connected to this pool. */
  agents(): AgentList {
    return {
      agents: this.#agents()
        .map(({ state }) => toSummary(state, this.#inFlight(state)))
        .sort((a, b) => a.id.localeCompare(b.id)),
    };
  }

  /**
   * Runs one execution on the least-loaded agent that has a free slot and its
   * language, after waiting its turn in the queue if none has. Its events go
   * to `sink` as they happen; the call answers with the summary once the sink
   * has them all, or with why it could not run.
   */
  async execute(input: ExecuteInput, sink: ExecutionSink): Promise<Answer<ExecutionSummary>> {
    const parsed = ExecuteInput.safeParse(input);
    if (!parsed.success) return refusal(new EdgeswarmError("invalid_request", "malformed pool request"));
    return this.#dispatcher.submit(parsed.data, sink);
  }

  /** Cancels an execution, waiting or running: its sandbox is killed, and its call answers `cancelled`. */
  cancel(executionId: string): boolean {
    return this.#dispatcher.cancel(executionId);
  }

  // --- agents -------------------------------------------------------------------------

  /** Sockets whose agent said hello. */
  #agents(): { ws: WebSocket; state: SocketState & { agent: AgentInfo } }[] {
    const out: { ws: WebSocket; state: SocketState & { agent: AgentInfo } }[] = [];
    for (const { ws, state } of this.#sockets.values()) {
      if (state.agent) out.push({ ws, state: state as SocketState & { agent: AgentInfo } });
    }
    return out;
  }

  #slots(): AgentSlot[] {
    return this.#agents().map(({ state }) => ({
      connId: state.connId,
      agentId: state.agent.id,
      // A draining agent counts as full: it is there, but takes nothing new.
      capacity: state.agent.draining ? 0 : state.agent.capacity,
      reportedInFlight: state.agent.reportedInFlight,
      languages: Object.keys(state.agent.images) as Language[],
    }));
  }

  #inFlight(state: SocketState & { agent: AgentInfo }): number {
    // What this object leased is exact while awake; the agent's own report covers
    // executions it still runs from before this object last woke.
    return Math.max(this.#dispatcher.leasedOn(state.connId), state.agent.reportedInFlight);
  }

  #save(ws: WebSocket, state: SocketState): void {
    writeState(ws, state);
    this.#sockets.set(state.connId, { ws, state });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const state = readState(ws);
    if (!state) return; // not one of ours
    if (typeof message !== "string") return this.#reject(ws, state, "binary frames are not part of the protocol");
    const parsed = parseFrame(AgentFrame, message);
    if (!parsed.ok) return this.#reject(ws, state, parsed.message);
    const frame = parsed.frame;

    if (frame.type === "agent.hello") {
      if (state.agent) return this.#reject(ws, state, "hello was already said on this connection");
      if (frame.protocolVersion !== PROTOCOL_VERSION) {
        ws.close(
          CLOSE_CODES.incompatibleVersion,
          `protocol version ${frame.protocolVersion} is not supported; this Worker speaks ${PROTOCOL_VERSION}`,
        );
        return;
      }
      // A reconnect under the same id replaces the old connection.
      for (const other of this.#agents()) {
        if (other.state.agent.id === frame.agentId) {
          other.ws.close(CLOSE_CODES.replaced, "replaced by a new connection of the same agent id");
          this.#forget(other.state, "it reconnected");
        }
      }
      state.agent = agentFromHello(frame);
      state.lastSeen = Date.now();
      this.#save(ws, state);
      send(ws, {
        type: "worker.welcome",
        protocolVersion: PROTOCOL_VERSION,
        pool: state.pool,
        heartbeatMs: HEARTBEAT_MS,
      });
      this.#dispatcher.capacityChanged();
      return;
    }
    if (!state.agent) return this.#reject(ws, state, "say agent.hello first");

    switch (frame.type) {
      case "agent.heartbeat":
        state.lastSeen = Date.now();
        state.agent.reportedInFlight = frame.inFlight;
        state.agent.draining = frame.draining;
        if (frame.health) state.agent.health = frame.health;
        this.#save(ws, state);
        this.#dispatcher.capacityChanged();
        return;
      case "exec.output":
      case "exec.finished": {
        const verdict = this.#dispatcher.onExecFrame(state.connId, frame);
        if (verdict === "unknown") {
          // Late output of a cancelled or timed-out execution lands here; not an offence.
          send(ws, {
            type: "error",
            executionId: frame.executionId,
            error: { code: "unknown_execution", message: "no such execution is leased to this connection" },
          });
        } else if (verdict) {
          this.#reject(ws, state, verdict.offence);
        }
        return;
      }
      case "error":
        console.warn(`agent ${state.agent.id} reported: ${frame.error.code}: ${frame.error.message.slice(0, 500)}`);
        return;
    }
  }

  /** Refuses one malformed frame; a connection that keeps sending them is closed. */
  #reject(ws: WebSocket, state: SocketState, message: string): void {
    state.badFrames++;
    this.#save(ws, state);
    send(ws, { type: "error", error: { code: "bad_frame", message: message.slice(0, 1_000) } });
    if (state.badFrames > MAX_BAD_FRAMES) {
      ws.close(CLOSE_CODES.protocolError, "too many malformed frames");
      this.#forget(state, "it broke the protocol");
    }
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    const state = readState(ws);
    if (state) this.#forget(state, `its connection closed (${code}${reason ? ` ${reason}` : ""})`);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const state = readState(ws);
    if (state) this.#forget(state, `its connection failed (${String(error)})`);
  }

  /** A connection is gone: it leaves the registry, and what it held fails `agent_lost`. */
  #forget(state: SocketState, why: string): void {
    this.#sockets.delete(state.connId);
    this.#dispatcher.loseConnection(state.connId, state.agent?.id ?? "?", why);
  }

  /** Sweeps silent agents and sockets that never said hello. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const { ws, state } of [...this.#sockets.values()]) {
      if (!state.agent && now - state.connectedAt > HELLO_TIMEOUT_MS) {
        ws.close(CLOSE_CODES.helloTimeout, "no agent.hello in time");
        this.#forget(state, "it never said hello");
      } else if (state.agent && now - state.lastSeen > AGENT_SILENCE_MS) {
        ws.close(CLOSE_CODES.heartbeatTimeout, "missed heartbeats");
        this.#forget(state, "it missed its heartbeats");
      }
    }
    if (this.#sockets.size > 0) await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
  }

  #scheduleSweep(): void {
    if (this.#sockets.size === 0) return;
    void this.ctx.storage.getAlarm().then((at) => {
      if (at === null) return this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
    });
  }
}

/** Sends a frame; false if the socket is no longer open. */
function send(ws: WebSocket, frame: WorkerFrame): boolean {
  try {
    ws.send(JSON.stringify(frame));
    return true;
  } catch {
    return false;
  }
}
