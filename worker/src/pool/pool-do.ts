import { DurableObject } from "cloudflare:workers";
import {
  AgentFrame,
  type AgentList,
  CLOSE_CODES,
  type ExecStart,
  type ExecutionEvent,
  type Language,
  PROTOCOL_VERSION,
  parseFrame,
  resolveLimits,
  type WorkerFrame,
} from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { errorResponse } from "../http/api-error.ts";
import { type AgentInfo, agentFromHello, readState, type SocketState, toSummary, writeState } from "./agents.ts";
import { ExecuteBody, POOL_HEADER, POOL_PATHS } from "./internal.ts";
import { failedOutcome, type Lease, LeaseTable } from "./leases.ts";
import { pickAgent } from "./scheduler.ts";

/** How often agents heartbeat; the Worker tells them in `worker.welcome`. */
export const HEARTBEAT_MS = 5_000;
/** An agent silent for this long is closed and its executions fail `agent_lost`. */
export const AGENT_SILENCE_MS = 3 * HEARTBEAT_MS;
/** A socket that has not said hello by then is closed. */
export const HELLO_TIMEOUT_MS = 10_000;
/** An execution the agent never finishes fails `execution_lost` this long after its own timeout. */
export const EXECUTION_GRACE_MS = 30_000;
/** Malformed frames tolerated from one connection before it is closed. */
const MAX_BAD_FRAMES = 20;

const encoder = new TextEncoder();

/**
 * One sandbox pool: the agent sockets (Hibernation API), their capacity and
 * heartbeats, and the leases of executions in flight. A thin shell: the choice
 * of agent is scheduler.ts, the lease table leases.ts, socket state agents.ts.
 */
export class PoolDO extends DurableObject<Env> {
  readonly #leases = new LeaseTable();

  override async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === POOL_PATHS.connect) return this.#connect(request);
    if (path === POOL_PATHS.execute && request.method === "POST") return this.#execute(request);
    if (path === POOL_PATHS.agents) return Response.json(this.#agentList());
    return errorResponse(404, "not_found", `no pool route ${path}`);
  }

  #connect(request: Request): Response {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "invalid_request", "expected a WebSocket upgrade");
    }
    const pool = request.headers.get(POOL_HEADER) ?? "";
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    writeState(server, { connId: crypto.randomUUID(), pool, connectedAt: now, lastSeen: now, badFrames: 0 });
    this.#scheduleSweep();
    return new Response(null, { status: 101, webSocket: client });
  }

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

  #agentList(): AgentList {
    return {
      agents: this.#agents()
        .map(({ state }) => toSummary(state, this.#inFlight(state)))
        .sort((a, b) => a.id.localeCompare(b.id)),
    };
  }

  async #execute(request: Request): Promise<Response> {
    const parsed = ExecuteBody.safeParse(await request.json().catch(() => null));
    if (!parsed.success) return errorResponse(400, "invalid_request", "malformed pool request");
    const { id, request: req } = parsed.data;

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
      req.language,
    );
    if (!pick.ok) {
      if (pick.reason === "language_unavailable") {
        return errorResponse(422, "language_unavailable", `no agent in this pool runs ${req.language}`);
      }
      if (pick.reason === "no_agents") {
        return errorResponse(503, "no_agents", "no sandbox agent is connected to this pool", {
          headers: { "Retry-After": "5" },
        });
      }
      return errorResponse(503, "no_capacity", "every sandbox agent in this pool is at capacity", {
        headers: { "Retry-After": "1" },
      });
    }

    const { ws, state } = pick.candidate.ref;
    const limits = resolveLimits(req.limits);
    const start: ExecStart = {
      type: "exec.start",
      executionId: id,
      language: req.language,
      code: req.code,
      files: req.files,
      stdin: req.stdin,
      args: req.args,
      env: req.env,
      limits,
    };

    let lease: Lease | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        lease = {
          executionId: id,
          agentId: state.agent.id,
          connId: state.connId,
          nextSeq: 0,
          emit: (event: ExecutionEvent) => controller.enqueue(encoder.encode(`${JSON.stringify(event)}\n`)),
          close: () => controller.close(),
          timer: undefined,
        };
      },
      cancel: () => {
        // The caller went away: stop the sandbox, free the slot.
        if (!lease || !this.#leases.get(id)) return;
        this.#leases.drop(lease);
        send(ws, { type: "exec.cancel", executionId: id, reason: "the caller disconnected" });
      },
    });
    if (!lease) throw new Error("ReadableStream start() did not run synchronously");
    const opened = lease;
    this.#leases.add(opened);
    opened.emit({ type: "started", id, agentId: state.agent.id });
    opened.timer = setTimeout(() => {
      send(ws, { type: "exec.cancel", executionId: id, reason: "the agent never finished it" });
      this.#leases.finish(
        opened,
        failedOutcome("execution_lost", `agent ${state.agent.id} did not finish the execution in time`),
      );
    }, limits.timeoutMs + EXECUTION_GRACE_MS);
    if (!send(ws, start)) {
      this.#leases.finish(opened, failedOutcome("agent_lost", `agent ${state.agent.id} is no longer connected`));
    }
    return new Response(body, { headers: { "Content-Type": "application/x-ndjson" } });
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
        if (frame.type === "exec.output") lease.emit({ type: frame.stream, data: frame.data });
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
