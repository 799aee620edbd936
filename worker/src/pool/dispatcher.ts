import type {
  ExecFinished,
  ExecOutput,
  ExecStart,
  ExecutionOutcome,
  ExecutionSummary,
  Language,
  WorkerFrame,
} from "@edgeswarm/shared";
import { type Answer, EdgeswarmError, refusal } from "../errors.ts";
import { cancelledOutcome, failedOutcome, filePieces } from "./outcomes.ts";
import { EventPump } from "./pump.ts";
import { FairQueue } from "./queue.ts";
import type { ExecuteInput, ExecutionSink, TenantRef } from "./rpc.ts";
import { pickAgent } from "./scheduler.ts";

/** An execution the agent never finishes fails `execution_lost` this long after its own timeout. */
export const EXECUTION_GRACE_MS = 30_000;
/**
 * How often the callers of running executions are sent a keep-alive: how a
 * caller that vanished without cancelling (its Worker died) is noticed.
 */
export const CALLER_PING_MS = 2_000;
/** Most waiting callers pinged per tick: 10,000 waiting are each pinged every 100 s, not 5,000 times a second. */
const WAITING_PINGS_PER_TICK = 200;

/** A connected agent as the dispatcher sees it. */
export interface AgentSlot {
  connId: string;
  agentId: string;
  /** The executions it may hold at once; 0 while it takes nothing new (draining). */
  capacity: number;
  /** What the agent last said it runs (executions from before this object woke count too). */
  reportedInFlight: number;
  languages: readonly Language[];
}

/** The agents, as the PoolDO keeps them. */
export interface AgentDirectory {
  slots(): AgentSlot[];
  /** Sends a frame to a connection; false if it is gone. */
  send(connId: string, frame: WorkerFrame): boolean;
}

interface Lease {
  connId: string;
  agentId: string;
  /** The seq the next frame from the agent must carry. */
  nextSeq: number;
  timer: ReturnType<typeof setTimeout>;
}

/** One execution from the moment its caller asks until its caller has the answer. */
interface Job {
  readonly id: string;
  readonly tenant: string;
  readonly quota: TenantRef;
  readonly input: ExecuteInput;
  readonly pump: EventPump;
  /** Set while it waits in the queue. */
  queueTimer?: ReturnType<typeof setTimeout>;
  /** Set once an agent holds it. */
  lease?: Lease;
  settle(answer: Answer<ExecutionSummary>): void;
}

/**
 * The executions of one pool, waiting and running: the fair queue in front of
 * the agents, each tenant's quotas, the leases, and how every execution ends.
 * Every execution ends with exactly one answer to its caller, whatever fails.
 */
export class Dispatcher {
  readonly #dir: AgentDirectory;
  readonly #jobs = new Map<string, Job>();
  readonly #queue = new FairQueue<Job>();
  /** Leased executions per tenant, and per connection. */
  readonly #byTenant = new Map<string, number>();
  readonly #byConn = new Map<string, number>();
  /** The quotas each waiting tenant was last sent with. */
  readonly #quotas = new Map<string, TenantRef>();
  #pinger: ReturnType<typeof setInterval> | undefined;
  #pingCursor = 0;

  constructor(dir: AgentDirectory) {
    this.#dir = dir;
  }

  /** Executions this object has leased to a connection. */
  leasedOn(connId: string): number {
    return this.#byConn.get(connId) ?? 0;
  }

  get waiting(): number {
    return this.#queue.size;
  }

  /**
   * Runs `input` once a slot is free: at once if one is, else after waiting in
   * the queue, at most `queueTimeoutMs`. Answers with the summary once `sink`
   * has every event, or with why it could not run.
   */
  submit(input: ExecuteInput, sink: ExecutionSink): Promise<Answer<ExecutionSummary>> {
    const language = input.spec.language;
    const slots = this.#dir.slots();
    if (slots.length > 0 && !slots.some((s) => s.languages.includes(language))) {
      return Promise.resolve(
        refusal(new EdgeswarmError("language_unavailable", `no agent in this pool runs ${language}`)),
      );
    }
    if (this.#jobs.has(input.id)) {
      return Promise.resolve(refusal(new EdgeswarmError("invalid_state", `execution ${input.id} exists already`)));
    }

    const { promise, resolve } = Promise.withResolvers<Answer<ExecutionSummary>>();
    let settled = false;
    const job: Job = {
      id: input.id,
      tenant: input.tenant.id,
      quota: input.tenant,
      input,
      pump: new EventPump(sink, () => this.#end(job, cancelledOutcome(), "the caller went away")),
      settle: (answer) => {
        if (settled) return;
        settled = true;
        this.#jobs.delete(job.id);
        if (this.#queue.countOf(job.tenant) === 0 && !this.#byTenant.has(job.tenant)) this.#quotas.delete(job.tenant);
        resolve(answer);
      },
    };
    this.#jobs.set(job.id, job);
    this.#quotas.set(job.tenant, job.quota);

    const position = this.#queue.add(job);
    this.#dispatch();
    if (!job.lease) {
      const why = this.#refuseWaiting(job);
      if (why) {
        this.#queue.remove(job);
        job.settle(refusal(why));
      } else {
        job.queueTimer = setTimeout(() => this.#timeOut(job), input.queueTimeoutMs);
        job.pump.push({ type: "queued", position });
      }
    }
    this.#startPinging();
    return promise;
  }

  /** Why a job that found no slot may not wait; undefined if it may. */
  #refuseWaiting(job: Job): EdgeswarmError | undefined {
    const { queueTimeoutMs, queueMax } = job.input;
    if (queueTimeoutMs === 0) return this.#noSlot(job);
    if (this.#queue.size > queueMax) {
      return new EdgeswarmError("queue_full", `this pool's queue holds ${queueMax} executions, its most`, {
        details: { limit: queueMax },
        retryAfterS: 1,
      });
    }
    if (this.#queue.countOf(job.tenant) > job.quota.queuedExecutions) {
      return quotaExceeded(job, "queuedExecutions", job.quota.queuedExecutions, "waiting");
    }
    return undefined;
  }

  /** Why there was no slot for a job: its tenant's own quota, no agent at all, or every agent full. */
  #noSlot(job: Job): EdgeswarmError {
    if (!this.#tenantMayRun(job.tenant)) {
      return quotaExceeded(job, "concurrentExecutions", job.quota.concurrentExecutions, "running");
    }
    if (this.#dir.slots().length === 0) {
      return new EdgeswarmError("no_agents", "no sandbox agent is connected to this pool", { retryAfterS: 5 });
    }
    return new EdgeswarmError("no_capacity", "every sandbox agent in this pool is at capacity", { retryAfterS: 1 });
  }

  #timeOut(job: Job): void {
    if (!this.#queue.remove(job)) return;
    job.queueTimer = undefined;
    job.pump.close();
    job.settle(refusal(this.#noSlot(job)));
  }

  /** Cancels an execution, waiting or running: its sandbox is killed, and it answers `cancelled`. */
  cancel(executionId: string): boolean {
    const job = this.#jobs.get(executionId);
    if (!job) return false;
    this.#end(job, cancelledOutcome(), "cancelled by its caller");
    return true;
  }

  #tenantMayRun(tenant: string): boolean {
    const quota = this.#quotas.get(tenant);
    return (this.#byTenant.get(tenant) ?? 0) < (quota?.concurrentExecutions ?? Number.POSITIVE_INFINITY);
  }

  /** Leases waiting executions while some fit: tenants in turn, each in order. */
  #dispatch(): void {
    for (;;) {
      const candidates = this.#dir.slots().map((slot) => ({
        ref: slot,
        agentId: slot.agentId,
        capacity: slot.capacity,
        inFlight: Math.max(this.leasedOn(slot.connId), slot.reportedInFlight),
        languages: slot.languages,
      }));
      if (candidates.length === 0) return;
      let chosen: AgentSlot | undefined;
      const job = this.#queue.take(
        (tenant) => this.#tenantMayRun(tenant),
        (j) => {
          const pick = pickAgent(candidates, j.input.spec.language);
          chosen = pick.ok ? pick.candidate.ref : undefined;
          return pick.ok;
        },
        (j) => j.input.spec.language,
      );
      if (!job || !chosen) return;
      this.#lease(job, chosen);
    }
  }

  #lease(job: Job, slot: AgentSlot): void {
    if (job.queueTimer) clearTimeout(job.queueTimer);
    job.queueTimer = undefined;
    const { id, spec } = { id: job.id, spec: job.input.spec };
    job.lease = {
      connId: slot.connId,
      agentId: slot.agentId,
      nextSeq: 0,
      timer: setTimeout(() => {
        this.#dir.send(slot.connId, { type: "exec.cancel", executionId: id, reason: "the agent never finished it" });
        this.#finish(
          job,
          failedOutcome("execution_lost", `agent ${slot.agentId} did not finish the execution in time`),
        );
      }, spec.limits.timeoutMs + EXECUTION_GRACE_MS),
    };
    count(this.#byTenant, job.tenant, 1);
    count(this.#byConn, slot.connId, 1);
    job.pump.push({ type: "started", agentId: slot.agentId });
    const start: ExecStart = { type: "exec.start", executionId: id, ...spec };
    if (!this.#dir.send(slot.connId, start)) {
      this.#finish(job, failedOutcome("agent_lost", `agent ${slot.agentId} is no longer connected`));
    }
  }

  /** Frees a leased job's slot and forgets its lease. */
  #release(job: Job): void {
    const lease = job.lease;
    if (!lease) return;
    job.lease = undefined;
    clearTimeout(lease.timer);
    count(this.#byTenant, job.tenant, -1);
    count(this.#byConn, lease.connId, -1);
  }

  /**
   * Ends a job with the agent's outcome (or one in its stead): the files go to
   * the caller as events, then, once the caller has every event, the call is
   * answered with the summary. The slot is free at once.
   */
  #finish(job: Job, outcome: ExecutionOutcome): void {
    const agentId = job.lease?.agentId ?? null;
    this.#release(job);
    for (const file of outcome.files) {
      for (const piece of filePieces(file.path, file.encoding, file.content)) job.pump.push(piece);
    }
    const summary: ExecutionSummary = { ...outcome, files: [], id: job.id, agentId };
    void job.pump.drained().then(() => job.settle({ ok: true, value: summary }));
    this.#dispatch();
  }

  /**
   * Ends a job at once, without waiting for an agent's report (its caller
   * cancelled, or left): out of the queue, or its sandbox killed.
   */
  #end(job: Job, outcome: ExecutionOutcome, reason: string): void {
    if (this.#queue.remove(job)) {
      if (job.queueTimer) clearTimeout(job.queueTimer);
    }
    const lease = job.lease;
    if (lease) this.#dir.send(lease.connId, { type: "exec.cancel", executionId: job.id, reason });
    this.#release(job);
    job.pump.close();
    job.settle({ ok: true, value: { ...outcome, files: [], id: job.id, agentId: lease?.agentId ?? null } });
    this.#dispatch();
  }

  // --- what the agents say -------------------------------------------------------------

  /**
   * An exec.output or exec.finished frame from a connection. Answers an error
   * to send back, or a protocol offence, or nothing.
   */
  onExecFrame(connId: string, frame: ExecOutput | ExecFinished): "unknown" | { offence: string } | undefined {
    const job = this.#jobs.get(frame.executionId);
    const lease = job?.lease;
    if (!job || !lease || lease.connId !== connId) return "unknown";
    if (frame.seq !== lease.nextSeq) {
      return { offence: `execution ${frame.executionId}: expected seq ${lease.nextSeq}, got ${frame.seq}` };
    }
    lease.nextSeq++;
    if (frame.type === "exec.output") job.pump.push({ type: frame.stream, data: frame.data });
    else this.#finish(job, frame.outcome);
    return undefined;
  }

  /** A connection is gone: what it held fails `agent_lost`, and what waits may go elsewhere. */
  loseConnection(connId: string, agentId: string, why: string): void {
    for (const job of [...this.#jobs.values()]) {
      if (job.lease?.connId === connId) {
        this.#finish(job, failedOutcome("agent_lost", `agent ${agentId} was lost during the execution: ${why}`));
      }
    }
    this.#byConn.delete(connId);
    this.#dispatch();
  }

  /** Something changed that may free slots (an agent said hello or reported its load). */
  capacityChanged(): void {
    this.#dispatch();
  }

  /** Pings callers while there are any: every running one each tick, waiting ones a bounded few in turn. */
  #startPinging(): void {
    if (this.#pinger) return;
    this.#pinger = setInterval(() => {
      if (this.#jobs.size === 0) {
        clearInterval(this.#pinger);
        this.#pinger = undefined;
        return;
      }
      const waiting: Job[] = [];
      for (const job of this.#jobs.values()) {
        if (job.lease) job.pump.ping();
        else if (job.queueTimer) waiting.push(job);
      }
      if (waiting.length === 0) return;
      this.#pingCursor %= waiting.length;
      for (let i = 0; i < Math.min(WAITING_PINGS_PER_TICK, waiting.length); i++) {
        waiting[(this.#pingCursor + i) % waiting.length]?.pump.ping();
      }
      this.#pingCursor += WAITING_PINGS_PER_TICK;
    }, CALLER_PING_MS);
  }
}

function count(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

function quotaExceeded(job: Job, quota: string, limit: number, what: string): EdgeswarmError {
  return new EdgeswarmError(
    "quota_exceeded",
    `tenant '${job.tenant}' has ${limit} executions ${what} in this pool, its most (${quota})`,
    { details: { quota, limit }, retryAfterS: 1 },
  );
}
