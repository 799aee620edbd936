import { DurableObject } from "cloudflare:workers";
import {
  AgentFrame,
  type AgentList,
  CLOSE_CODES,
  type ExecutionSummary,
  executionIdOf,
  type Hello,
  type Language,
  MAX_AGENT_FRAME_CHARS,
  PROTOCOL_VERSION,
  parseFrame,
  type WorkerFrame,
} from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { type Answer, EdgeswarmError, refusal } from "../errors.ts";
import { telemetry } from "../telemetry/telemetry.ts";
import { type AgentInfo, agentFromHello, readState, type SocketState, toSummary, writeState } from "./agents.ts";
import { ACK_TIMEOUT_MS, type AgentSlot, Dispatcher } from "./dispatcher.ts";
import { ExecuteInput, type ExecutionSink } from "./rpc.ts";
import { type SandboxProfile, sandboxProfile } from "./sandbox-profile.ts";
import { SandboxStore } from "./sandbox-store.ts";

/** How often agents heartbeat; the Worker tells them in `worker.welcome`. */
export const HEARTBEAT_MS = 5_000;
/** An agent silent for this long is closed and its executions fail `agent_lost`. */
export const AGENT_SILENCE_MS = 3 * HEARTBEAT_MS;
/** A socket that has not said hello by then is closed. */
export const HELLO_TIMEOUT_MS = 10_000;
/** Malformed frames tolerated from one connection before it is closed. */
const MAX_BAD_FRAMES = 20;

/** The headers the Worker's connect route sets for the PoolDO (never a client's own). */
export const CONNECT_HEADERS = {
  pool: "x-edgeswarm-pool",
  tokenId: "x-edgeswarm-token-id",
  maxCapacity: "x-edgeswarm-max-capacity",
} as const;

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
  /** The same, by socket: a message finds its state without reading the attachment again. */
  readonly #byWs = new WeakMap<WebSocket, Socket>();
  readonly #dispatcher: Dispatcher;
  /** What each agent's images hold, by connection id: too big for the attachment. */
  readonly #sandboxes: SandboxStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sandboxes = new SandboxStore(ctx.storage.kv);
    for (const ws of ctx.getWebSockets()) {
      const state = readState(ws);
      if (state) this.#remember({ ws, state });
    }
    this.#dispatcher = new Dispatcher(
      {
        slots: () => this.#slots(),
        send: (connId, frame) => {
          const socket = this.#sockets.get(connId);
          return socket ? send(socket.ws, frame) : false;
        },
        trust: (connId) =>
          this.#update(connId, (agent) => {
            if (agent.trusted) return false;
            agent.trusted = true;
            return true;
          }),
        bench: (connId) =>
          this.#update(connId, (agent) => {
            if (agent.benched) return false;
            agent.benched = true;
            return true;
          }),
      },
      {
        tracer: telemetry(env).tracer,
        onSpanEnd: () => telemetry(env).flushSoon((work) => this.ctx.waitUntil(work)),
      },
    );
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const pool = request.headers.get(CONNECT_HEADERS.pool) ?? "";
    const tokenId = request.headers.get(CONNECT_HEADERS.tokenId) ?? "";
    const maxCapacity = Number(request.headers.get(CONNECT_HEADERS.maxCapacity)) || 1;
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    const state: SocketState = {
      connId: crypto.randomUUID(),
      pool,
      tokenId,
      maxCapacity,
      connectedAt: now,
      lastSeen: now,
      badFrames: 0,
    };
    writeState(server, state);
    this.#remember({ ws: server, state });
    this.#scheduleSweep();
    return new Response(null, { status: 101, webSocket: client });
  }

  // --- RPC ----------------------------------------------------------------------------

  /** The agents connected to this pool. */
  agents(): AgentList {
    return {
      agents: this.#agents()
        .map(({ state }) => toSummary(state, this.#inFlight(state), this.#sandboxes.get(state.connId)))
        .sort((a, b) => a.id.localeCompare(b.id)),
    };
  }

  /**
   * What the pool's sandboxes can be counted on to hold, per language: what
   * every connected agent serving it advertises (see sandbox-profile.ts). For
   * prompts (roles/sandbox-brief.ts).
   */
  sandboxProfile(): SandboxProfile {
    return sandboxProfile(
      this.#agents().map(({ state }) => ({
        languages: Object.keys(state.agent.images) as Language[],
        sandboxes: this.#sandboxes.get(state.connId),
      })),
    );
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
    return this.#agents().map(({ state }) => {
      const { agent } = state;
      return {
        connId: state.connId,
        agentId: agent.id,
        // A draining or benched agent counts as full: it is there, but takes nothing new.
        // One that never acknowledged a lease may hold one at a time until it does.
        capacity: agent.draining || agent.benched ? 0 : agent.trusted ? agent.capacity : 1,
        reportedInFlight: agent.reportedInFlight,
        languages: Object.keys(agent.images) as Language[],
      };
    });
  }

  /** Changes one connected agent's state; `change` answers whether it changed anything. */
  #update(connId: string, change: (agent: AgentInfo) => boolean): void {
    const socket = this.#sockets.get(connId);
    if (socket?.state.agent && change(socket.state.agent)) this.#save(socket.ws, socket.state);
  }

  #inFlight(state: SocketState & { agent: AgentInfo }): number {
    // What this object leased is exact while awake; the agent's own report covers
    // executions it still runs from before this object last woke.
    return Math.max(this.#dispatcher.leasedOn(state.connId), state.agent.reportedInFlight);
  }

  #save(ws: WebSocket, state: SocketState): void {
    writeState(ws, state);
    this.#remember({ ws, state });
  }

  #remember(socket: Socket): void {
    this.#sockets.set(socket.state.connId, socket);
    this.#byWs.set(socket.ws, socket);
  }

  /** A socket's state: from memory while this instance lives, else from its attachment. */
  #stateOf(ws: WebSocket): SocketState | undefined {
    return this.#byWs.get(ws)?.state ?? readState(ws);
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const state = this.#stateOf(ws);
    if (!state) return; // not one of ours
    if (typeof message !== "string") return this.#reject(ws, state, "binary frames are not part of the protocol");
    if (message.length > MAX_AGENT_FRAME_CHARS) return this.#oversize(ws, state, message);
    const parsed = parseFrame(AgentFrame, message);
    if (!parsed.ok) {
      // A malformed frame of an execution fails that execution; the connection only counts it.
      const id = executionIdOf(message);
      if (id && state.agent) this.#dispatcher.failExecution(state.connId, id, `the agent sent ${parsed.message}`);
      return this.#reject(ws, state, parsed.message);
    }
    const frame = parsed.frame;
    if (frame.type === "agent.hello") return this.#hello(ws, state, frame);
    if (!state.agent) return this.#reject(ws, state, "say agent.hello first");

    if (state.agent.benched) {
      // It speaks again: it may be given work again (one lease at a time, until it acknowledges one).
      state.agent.benched = false;
      state.agent.trusted = false;
      this.#save(ws, state);
      this.#dispatcher.capacityChanged();
    }
    switch (frame.type) {
      case "agent.heartbeat":
        state.lastSeen = Date.now();
        state.agent.reportedInFlight = frame.inFlight;
        state.agent.draining = frame.draining;
        if (frame.health) state.agent.health = frame.health;
        this.#save(ws, state);
        this.#dispatcher.capacityChanged();
        return;
      case "exec.accepted":
        if (this.#dispatcher.onAccepted(state.connId, frame.executionId) === "unknown") {
          this.#unknown(ws, frame.executionId);
        }
        return;
      case "exec.output":
      case "exec.file":
      case "exec.finished": {
        const verdict = this.#dispatcher.onExecFrame(state.connId, frame, message.length);
        if (verdict === "unknown") this.#unknown(ws, frame.executionId);
        else if (verdict) this.#reject(ws, state, verdict.offence);
        return;
      }
      case "error":
        console.warn(`agent ${state.agent.id} reported: ${frame.error.code}: ${frame.error.message.slice(0, 500)}`);
        return;
    }
  }

  /** Late frames of a cancelled or timed-out execution land here; not an offence. */
  #unknown(ws: WebSocket, executionId: string): void {
    send(ws, {
      type: "error",
      executionId,
      error: { code: "unknown_execution", message: "no such execution is leased to this connection" },
    });
  }

  /** A frame over the protocol's size: it fails the execution it names, if any, and counts as malformed. */
  #oversize(ws: WebSocket, state: SocketState, message: string): void {
    const id = executionIdOf(message);
    const why = `a frame of ${message.length} characters is over the ${MAX_AGENT_FRAME_CHARS} an agent may send`;
    if (id && state.agent) this.#dispatcher.failExecution(state.connId, id, `the agent sent ${why}`);
    this.#reject(ws, state, why);
  }

  /**
   * An agent's hello. Its id belongs to the token it connects with: while a
   * live connection of another token holds the id, the new one is refused and
   * the live one is untouched. A reconnect with the same token replaces its
   * own old connection.
   */
  #hello(ws: WebSocket, state: SocketState, frame: Hello): void {
    if (state.agent) return this.#reject(ws, state, "hello was already said on this connection");
    if (frame.protocolVersion !== PROTOCOL_VERSION) {
      ws.close(
        CLOSE_CODES.incompatibleVersion,
        `protocol version ${frame.protocolVersion} is not supported; this Worker speaks ${PROTOCOL_VERSION}`,
      );
      this.#sockets.delete(state.connId);
      return;
    }
    const holders = this.#agents().filter((other) => other.state.agent.id === frame.agentId);
    if (holders.some((other) => other.state.tokenId !== state.tokenId)) {
      ws.close(CLOSE_CODES.idInUse, `agent id '${frame.agentId}' is connected with another agent token`);
      this.#sockets.delete(state.connId);
      return;
    }
    for (const other of holders) {
      other.ws.close(CLOSE_CODES.replaced, "replaced by a new connection of the same agent id");
      this.#forget(other.state, "it reconnected");
    }
    state.agent = agentFromHello(frame, state.maxCapacity);
    state.lastSeen = Date.now();
    this.#save(ws, state);
    if (frame.sandboxes) this.#sandboxes.put(state.connId, frame.sandboxes);
    send(ws, {
      type: "worker.welcome",
      protocolVersion: PROTOCOL_VERSION,
      pool: state.pool,
      heartbeatMs: HEARTBEAT_MS,
      ackTimeoutMs: ACK_TIMEOUT_MS,
      capacity: state.agent.capacity,
    });
    this.#dispatcher.capacityChanged();
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
    const state = this.#stateOf(ws);
    if (state) this.#forget(state, `its connection closed (${code}${reason ? ` ${reason}` : ""})`);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const state = this.#stateOf(ws);
    if (state) this.#forget(state, `its connection failed (${String(error)})`);
  }

  /** A connection is gone: it leaves the registry, and what it held fails `agent_lost`. */
  #forget(state: SocketState, why: string): void {
    this.#sockets.delete(state.connId);
    this.#sandboxes.delete(state.connId);
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
    this.#sandboxes.prune(new Set(this.#sockets.keys()));
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
