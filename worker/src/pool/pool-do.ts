import { DurableObject } from "cloudflare:workers";
import {
  AgentFrame,
  type AgentList,
  CLOSE_CODES,
  type ExecStart,
  type ExecutionSummary,
  type Language,
  PROTOCOL_VERSION,
  parseFrame,
  type WorkerFrame,
} from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { type Answer, EdgeswarmError, refusal } from "../errors.ts";
import { type AgentInfo, agentFromHello, readState, type SocketState, toSummary, writeState } from "./agents.ts";
import { cancelledOutcome, failedOutcome, type Lease, LeaseTable } from "./leases.ts";
import { EventPump } from "./pump.ts";
import { ExecuteInput, type ExecutionSink } from "./rpc.ts";
import { pickAgent } from "./scheduler.ts";

/** How often agents heartbeat; the Worker tells them in `worker.welcome`. */
export const HEARTBEAT_MS = 5_000;
/** An agent silent for this long is closed and its executions fail `agent_lost`. */
export const AGENT_SILENCE_MS = 3 * HEARTBEAT_MS;
/** A socket that has not said hello by then is closed. */
export const HELLO_TIMEOUT_MS = 10_000;
/** An execution the agent never finishes fails `execution_lost` this long after its own timeout. */
export const EXECUTION_GRACE_MS = 30_000;
/** How often a caller is sent a keep-alive: how a caller that vanished is noticed. */
export const CALLER_PING_MS = 2_000;
/** Malformed frames tolerated from one connection before it is closed. */
const MAX_BAD_FRAMES = 20;

/** The headers the Worker's connect route sets for the PoolDO (never a client's own). */
export const CONNECT_HEADERS = { pool: "x-edgeswarm-pool" } as const;

/**
 * One sandbox pool: the agent sockets (Hibernation API), their capacity and
 * heartbeats, and the leases of executions in flight. A thin shell: the choice
 * of agent is scheduler.ts, the lease table leases.ts, socket state agents.ts.
 * The Worker reaches it through RPC (client.ts); `fetch` is only the agents'
 * WebSocket upgrade.
 */
export class PoolDO extends DurableObject<Env> {
  readonly #leases = new LeaseTable();
  #pinger: ReturnType<typeof setInterval> | undefined;

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const pool = request.headers.get(CONNECT_HEADERS.pool) ?? "";
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    writeState(server, { connId: crypto.randomUUID(), pool, connectedAt: now, lastSeen: now, badFrames: 0 });
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
   * language. Its events go to `sink` as they happen; the call answers with
   * the summary once the sink has them all, or with why it could not run.
   */
  async execute(input: ExecuteInput, sink: ExecutionSink): Promise<Answer<ExecutionSummary>> {
    const parsed = ExecuteInput.safeParse(input);
    if (!parsed.success) return refusal(new EdgeswarmError("invalid_request", "malformed pool request"));
    const { id, tenant, spec } = parsed.data;

    const agents = this.#agents();
    const pick = pickAgent(
      agents.map((a) => ({
        ref: a,
        agentId: a.state.agent.id,
        // A draining agent counts as full: it is there, but takes nothing new.
        capacity: a.state.agent.draining ? 0 : a.state.agent.capacity,
        inFlight: this.#inFlight(a.state),
        languages: Object.keys(a.state.agent.images) as Language[],
      })),
      spec.language,
    );
    if (!pick.ok) {
      if (pick.reason === "language_unavailable") {
        return refusal(new EdgeswarmError("language_unavailable", `no agent in this pool runs ${spec.language}`));
      }
      if (pick.reason === "no_agents") {
        return refusal(
          new EdgeswarmError("no_agents", "no sandbox agent is connected to this pool", { retryAfterS: 5 }),
        );
      }
      return refusal(
        new EdgeswarmError("no_capacity", "every sandbox agent in this pool is at capacity", { retryAfterS: 1 }),
      );
    }

    const { ws, state } = pick.candidate.ref;
    const start: ExecStart = { type: "exec.start", executionId: id, ...spec };
    const { promise, resolve } = Promise.withResolvers<Answer<ExecutionSummary>>();
    const lease: Lease = {
      executionId: id,
      tenant: tenant.id,
      agentId: state.agent.id,
      connId: state.connId,
      nextSeq: 0,
      pump: new EventPump(sink, () => {
        // The caller is gone: stop the sandbox, free the slot.
        this.#leases.drop(lease, cancelledOutcome());
        send(ws, { type: "exec.cancel", executionId: id, reason: "the caller went away" });
      }),
      settle: (summary) => resolve({ ok: true, value: summary }),
      timer: undefined,
    };
    this.#leases.add(lease);
    this.#startPinging();
    lease.pump.push({ type: "started", agentId: state.agent.id });
    lease.timer = setTimeout(() => {
      send(ws, { type: "exec.cancel", executionId: id, reason: "the agent never finished it" });
      this.#leases.finish(
        lease,
        failedOutcome("execution_lost", `agent ${state.agent.id} did not finish the execution in time`),
      );
    }, spec.limits.timeoutMs + EXECUTION_GRACE_MS);
    if (!send(ws, start)) {
      this.#leases.finish(lease, failedOutcome("agent_lost", `agent ${state.agent.id} is no longer connected`));
    }
    return promise;
  }

  /** Cancels an execution: its sandbox is killed, and its call answers `cancelled`. */
  cancel(executionId: string): boolean {
    const lease = this.#leases.get(executionId);
    if (!lease) return false;
    this.#leases.drop(lease, cancelledOutcome());
    const agent = this.#agents().find((a) => a.state.connId === lease.connId);
    if (agent) send(agent.ws, { type: "exec.cancel", executionId, reason: "cancelled by its caller" });
    return true;
  }

  // --- agents -------------------------------------------------------------------------

  /** Sockets whose agent said hello, with their state. */
  #agents(): { ws: WebSocket; state: SocketState & { agent: AgentInfo } }[] {
    const out: { ws: WebSocket; state: SocketState & { agent: AgentInfo } }[] = [];
    for (const ws of this.ctx.getWebSockets()) {
      const state = readState(ws);
      if (state?.agent) out.push({ ws, state: state as SocketState & { agent: AgentInfo } });
    }
    return out;
  }

  #inFlight(state: SocketState & { agent: AgentInfo }): number {
    // The lease table is exact while awake; the agent's own report covers
    // executions it still runs from before this object last woke.
    return Math.max(this.#leases.countFor(state.connId), state.agent.reportedInFlight);
  }

  /** Pings the callers of open leases, while there are any. */
  #startPinging(): void {
    if (this.#pinger) return;
    this.#pinger = setInterval(() => {
      if (this.#leases.size === 0) {
        clearInterval(this.#pinger);
        this.#pinger = undefined;
        return;
      }
      for (const lease of this.#leases.all()) lease.pump.ping();
    }, CALLER_PING_MS);
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
          this.#loseConnection(other.state, "it reconnected");
        }
      }
      state.agent = agentFromHello(frame);
      state.lastSeen = Date.now();
      writeState(ws, state);
      send(ws, {
        type: "worker.welcome",
        protocolVersion: PROTOCOL_VERSION,
        pool: state.pool,
        heartbeatMs: HEARTBEAT_MS,
      });
      return;
    }
    if (!state.agent) return this.#reject(ws, state, "say agent.hello first");

    switch (frame.type) {
      case "agent.heartbeat":
        state.lastSeen = Date.now();
        state.agent.reportedInFlight = frame.inFlight;
        state.agent.draining = frame.draining;
        if (frame.health) state.agent.health = frame.health;
        writeState(ws, state);
        return;
      case "exec.output":
      case "exec.finished": {
        const lease = this.#leases.get(frame.executionId);
        if (!lease || lease.connId !== state.connId) {
          // Late output of a cancelled or timed-out execution lands here; not an offence.
          send(ws, {
            type: "error",
            executionId: frame.executionId,
            error: { code: "unknown_execution", message: "no such execution is leased to this connection" },
          });
          return;
        }
        if (frame.seq !== lease.nextSeq) {
          return this.#reject(
            ws,
            state,
            `execution ${frame.executionId}: expected seq ${lease.nextSeq}, got ${frame.seq}`,
          );
        }
        lease.nextSeq++;
        if (frame.type === "exec.output") lease.pump.push({ type: frame.stream, data: frame.data });
        else this.#leases.finish(lease, frame.outcome);
        return;
      }
      case "error":
        console.warn(`agent ${state.agent.id} reported: ${frame.error.code}: ${frame.error.message}`);
        return;
    }
  }

  /** Refuses one malformed frame; a connection that keeps sending them is closed. */
  #reject(ws: WebSocket, state: SocketState, message: string): void {
    state.badFrames++;
    writeState(ws, state);
    send(ws, { type: "error", error: { code: "bad_frame", message } });
    if (state.badFrames > MAX_BAD_FRAMES) {
      ws.close(CLOSE_CODES.protocolError, "too many malformed frames");
      this.#loseConnection(state, "it broke the protocol");
    }
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    const state = readState(ws);
    if (state) this.#loseConnection(state, `its connection closed (${code}${reason ? ` ${reason}` : ""})`);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const state = readState(ws);
    if (state) this.#loseConnection(state, `its connection failed (${String(error)})`);
  }

  /** Fails every execution leased to a connection that is gone. */
  #loseConnection(state: SocketState, why: string): void {
    for (const lease of this.#leases.forConnection(state.connId)) {
      this.#leases.finish(
        lease,
        failedOutcome("agent_lost", `agent ${state.agent?.id ?? "?"} was lost during the execution: ${why}`),
      );
    }
  }

  /** Sweeps silent agents and sockets that never said hello. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      const state = readState(ws);
      if (!state) continue;
      if (!state.agent && now - state.connectedAt > HELLO_TIMEOUT_MS) {
        ws.close(CLOSE_CODES.helloTimeout, "no agent.hello in time");
      } else if (state.agent && now - state.lastSeen > AGENT_SILENCE_MS) {
        ws.close(CLOSE_CODES.heartbeatTimeout, "missed heartbeats");
        this.#loseConnection(state, "it missed its heartbeats");
      }
    }
    if (this.ctx.getWebSockets().length > 0) await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
  }

  #scheduleSweep(): void {
    if (this.ctx.getWebSockets().length === 0) return;
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
