import type {
  ExecFile,
  ExecFinished,
  ExecOutput,
  ExecStart,
  ExecutionOutcome,
  ExecutionSummary,
  Language,
  WorkerFrame,
} from "@edgeswarm/shared";
import { MAX_FRAME_BYTES } from "@edgeswarm/shared";
import type { Tracer } from "@opentelemetry/api";
import { type Answer, EdgeswarmError, refusal } from "../errors.ts";
import { extract } from "../telemetry/telemetry.ts";
import { CallerWatch, CLIENT_STALL_MS } from "./caller-watch.ts";
import { JobSpans } from "./job-spans.ts";
import { Lease } from "./lease.ts";
import { cancelledOutcome, failedOutcome } from "./outcomes.ts";
import { EventPump } from "./pump.ts";
import { FairQueue } from "./queue.ts";
import type { ExecuteInput, ExecutionSink, TenantRef } from "./rpc.ts";
import { pickAgent } from "./scheduler.ts";

/** An execution the agent never finishes fails `execution_lost` this long after its own timeout. */
export const EXECUTION_GRACE_MS = 30_000;
/** An agent answers exec.start with exec.accepted within this, or the execution goes to another agent. */
export const ACK_TIMEOUT_MS = 3_000;
/**
 * What the pool holds of events its callers have not taken, in characters of
 * the agents' frames: each execution gets a share as its window, between the
 * bounds below, so that the pool's memory stays bounded whatever callers do.
 */
export const POOL_WINDOW_CHARS = 32 * 1024 * 1024;
export const MAX_WINDOW_CHARS = 1024 * 1024;
export const MIN_WINDOW_CHARS = 64 * 1024;

/** A connected agent as the dispatcher sees it. */
export interface AgentSlot {
  connId: string;
  agentId: string;
  /** The executions it may hold at once; 0 while it takes nothing new (draining, or silent). */
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
  /** The connection acknowledged a lease: it may have its full capacity. */
  trust(connId: string): void;
  /** The connection let a lease go unacknowledged: it gets nothing until it speaks again. */
  bench(connId: string): void;
}

/** How the dispatcher makes its spans (job-spans.ts), and learns that one ended. */
export interface DispatcherTracing {
  tracer: Tracer;
  onSpanEnd: () => void;
}

/** One execution from the moment its caller asks until its caller has the answer. */
interface Job {
  readonly id: string;
  readonly tenant: string;
  readonly quota: TenantRef;
  readonly input: ExecuteInput;
  readonly pump: EventPump;
  /** When it stops waiting for a slot (ms since the epoch). */
  readonly waitUntil: number;
  /** Set while it waits in the queue. */
  queueTimer?: ReturnType<typeof setTimeout>;
  /** Set once an agent holds it. */
  lease?: Lease;
  /** Connections that let it go unacknowledged: it is never offered to them again. */
  avoid?: Set<string>;
  readonly spans: JobSpans;
  settle(answer: Answer<ExecutionSummary>): void;
}

/**
 * The executions of one pool, waiting and running: the fair queue in front of
 * the agents, each tenant's quotas, the leases and their acknowledgement, the
 * flow of events to callers, and how every execution ends. Every execution
 * ends with exactly one answer to its caller, whatever fails.
 */
export class Dispatcher {
  readonly #dir: AgentDirectory;
  readonly #jobs = new Map<string, Job>();
  readonly #queue = new FairQueue<Job>();
  /** Leased executions per tenant, and per connection. */
  readonly #byTenant = new Map<string, number>();
  readonly #byConn = new Map<string, number>();
  /** The quotas each tenant with executions here was last sent with. */
  readonly #quotas = new Map<string, TenantRef>();
  #leased = 0;
  readonly #callers = new CallerWatch<Job>({
    calls: () => this.#jobs,
    // Running, or ended and waiting for its caller to take the last events: either way
    // a caller that takes nothing for CLIENT_STALL_MS is let go.
    view: (job) => ({ pump: job.pump, state: job.lease ? "running" : job.queueTimer ? "waiting" : "other" }),
    onStalled: (job) => this.#tooSlow(job),
  });

  readonly #tracing: DispatcherTracing;

  constructor(dir: AgentDirectory, tracing: DispatcherTracing) {
    this.#dir = dir;
    this.#tracing = tracing;
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
      waitUntil: Date.now() + input.queueTimeoutMs,
      pump: new EventPump(sink, () => this.#end(job, cancelledOutcome(), "the caller went away")),
      spans: new JobSpans(
        this.#tracing.tracer,
        extract(input.trace),
        { "edgeswarm.execution.id": input.id, "edgeswarm.tenant": input.tenant.id, "edgeswarm.language": language },
        this.#tracing.onSpanEnd,
      ),
      settle: (answer) => {
        if (settled) return;
        settled = true;
        job.spans.ended(answer.ok ? answer.value : answer);
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
        this.#waitInQueue(job);
        job.spans.queued(position);
        job.pump.push({ type: "queued", position });
      }
    }
    this.#callers.start();
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

  /** Waits out the rest of its queue wait; at least `minMs` (a job put back after a lease that failed it). */
  #waitInQueue(job: Job, minMs = 0): void {
    job.queueTimer = setTimeout(() => this.#timeOut(job), Math.max(minMs, job.waitUntil - Date.now()));
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
    if (this.#queue.size === 0) return;
    // The agents once per pass (a pool may have hundreds); each lease made counts on its agent.
    const candidates = this.#dir.slots().map((slot) => ({
      ref: slot,
      agentId: slot.agentId,
      capacity: slot.capacity,
      inFlight: Math.max(this.leasedOn(slot.connId), slot.reportedInFlight),
      languages: slot.languages,
    }));
    if (candidates.length === 0) return;
    for (;;) {
      let chosen: (typeof candidates)[number] | undefined;
      const job = this.#queue.take(
        (tenant) => this.#tenantMayRun(tenant),
        (j) => {
          const able = j.avoid ? candidates.filter((c) => !j.avoid?.has(c.ref.connId)) : candidates;
          const pick = pickAgent(able, j.input.spec.language);
          chosen = pick.ok ? pick.candidate : undefined;
          return pick.ok;
        },
        // Jobs an agent failed have their own set of agents, so they fit or not on their own.
        (j) => (j.avoid ? j.id : j.input.spec.language),
      );
      if (!job || !chosen) return;
      chosen.inFlight++;
      this.#lease(job, chosen.ref);
    }
  }

  /** Each execution's share of the pool's window. */
  #window(): number {
    return Math.max(MIN_WINDOW_CHARS, Math.min(MAX_WINDOW_CHARS, Math.floor(POOL_WINDOW_CHARS / (this.#leased + 1))));
  }

  #lease(job: Job, slot: AgentSlot): void {
    if (job.queueTimer) clearTimeout(job.queueTimer);
    job.queueTimer = undefined;
    const window = this.#window();
    const trace = job.spans.leased(slot.agentId);
    const start: ExecStart = { type: "exec.start", executionId: job.id, ...job.input.spec, window, trace };
    const text = JSON.stringify(start);
    if (text.length > MAX_FRAME_BYTES) {
      job.pump.close();
      job.settle(
        refusal(
          new EdgeswarmError(
            "payload_too_large",
            `the execution's code and files make a ${text.length}-character frame, over the ${MAX_FRAME_BYTES} an agent takes`,
          ),
        ),
      );
      return;
    }
    job.lease = new Lease({
      connId: slot.connId,
      agentId: slot.agentId,
      limits: job.input.spec.limits,
      window,
      timer: setTimeout(() => this.#unacknowledged(job), ACK_TIMEOUT_MS),
    });
    this.#leased++;
    count(this.#byTenant, job.tenant, 1);
    count(this.#byConn, slot.connId, 1);
    job.pump.onDelivered = (chars) => this.#credit(job, chars);
    if (!this.#dir.send(slot.connId, start)) {
      this.#finish(job, failedOutcome("agent_lost", `agent ${slot.agentId} is no longer connected`));
    }
  }

  /** Gives `chars` of window back to the agent that holds `job`. */
  #credit(job: Job, chars: number): void {
    const lease = job.lease;
    if (!lease) return;
    lease.credit(chars);
    this.#dir.send(lease.connId, { type: "exec.credit", executionId: job.id, chars });
  }

  /**
   * The agent did not take the lease in time: it gets nothing more until it
   * speaks, and the execution goes back to the head of its tenant's line.
   */
  #unacknowledged(job: Job): void {
    const lease = job.lease;
    if (!lease || lease.acked) return;
    this.#dir.send(lease.connId, { type: "exec.cancel", executionId: job.id, reason: "not acknowledged in time" });
    this.#dir.bench(lease.connId);
    job.avoid = new Set([...(job.avoid ?? []), lease.connId]);
    this.#release(job);
    job.spans.unacknowledged();
    job.spans.queued(1);
    job.pump.onDelivered = () => {};
    this.#queue.requeue(job);
    this.#waitInQueue(job, ACK_TIMEOUT_MS);
    this.#dispatch();
  }

  /** Frees a leased job's slot and forgets its lease. */
  #release(job: Job): void {
    const lease = job.lease;
    if (!lease) return;
    job.lease = undefined;
    clearTimeout(lease.timer);
    this.#leased--;
    count(this.#byTenant, job.tenant, -1);
    count(this.#byConn, lease.connId, -1);
  }

  /**
   * Ends a job with its outcome (the agent's, or one in its stead). Once the
   * caller has every event, the call is answered with the summary. The slot
   * is free at once.
   */
  #finish(job: Job, outcome: ExecutionOutcome): void {
    const lease = job.lease;
    const unfinished = lease?.bounds.unfinished;
    if (unfinished) job.pump.push({ type: "file_dropped", path: unfinished });
    this.#release(job);
    const summary: ExecutionSummary = { ...outcome, files: [], id: job.id, agentId: lease?.agentId ?? null };
    void job.pump.drained().then(() => job.settle({ ok: true, value: summary }));
    this.#dispatch();
  }

  /**
   * Ends a job at once, without waiting for an agent's report (its caller
   * cancelled, or left, or is too slow): out of the queue, or its sandbox killed.
   */
  #end(job: Job, outcome: ExecutionOutcome, reason: string): void {
    if (this.#queue.remove(job) && job.queueTimer) clearTimeout(job.queueTimer);
    const lease = job.lease;
    if (lease) this.#dir.send(lease.connId, { type: "exec.cancel", executionId: job.id, reason });
    this.#release(job);
    job.pump.close();
    job.settle({ ok: true, value: { ...outcome, files: [], id: job.id, agentId: lease?.agentId ?? null } });
    this.#dispatch();
  }

  // --- what the agents say -------------------------------------------------------------

  /** The lease of `executionId` if `connId` holds it. */
  #leaseOf(connId: string, executionId: string): { job: Job; lease: Lease } | undefined {
    const job = this.#jobs.get(executionId);
    const lease = job?.lease;
    return job && lease && lease.connId === connId ? { job, lease } : undefined;
  }

  /** exec.accepted: the agent took the lease; its caller learns where it runs. */
  onAccepted(connId: string, executionId: string): "unknown" | undefined {
    const held = this.#leaseOf(connId, executionId);
    if (!held) return "unknown";
    const { job, lease } = held;
    if (lease.acked) return undefined;
    lease.acked = true;
    clearTimeout(lease.timer);
    const spec = job.input.spec;
    lease.timer = setTimeout(() => {
      this.#dir.send(connId, { type: "exec.cancel", executionId, reason: "the agent never finished it" });
      this.#finish(job, failedOutcome("execution_lost", `agent ${lease.agentId} did not finish the execution in time`));
    }, spec.limits.timeoutMs + EXECUTION_GRACE_MS);
    this.#dir.trust(connId);
    job.pump.push({ type: "started", agentId: lease.agentId });
    return undefined;
  }

  /**
   * An exec.output, exec.file or exec.finished frame of `chars` characters.
   * Answers "unknown" for an execution this connection does not hold, or a
   * protocol offence, or nothing. What it carries is held to the lease's limits.
   */
  onExecFrame(
    connId: string,
    frame: ExecOutput | ExecFile | ExecFinished,
    chars: number,
  ): "unknown" | { offence: string } | undefined {
    const held = this.#leaseOf(connId, frame.executionId);
    if (!held) return "unknown";
    const { job, lease } = held;
    const taken = lease.take(frame, chars);
    if (taken === "overdrawn") {
      this.failExecution(connId, job.id, "the agent sent output beyond its flow-control window");
      return undefined;
    }
    if (taken) return taken;
    switch (frame.type) {
      case "exec.output": {
        const data = lease.bounds.output(frame.stream, frame.data);
        if (data) job.pump.push({ type: frame.stream, data }, chars);
        else this.#credit(job, chars); // dropped: give it back
        return undefined;
      }
      case "exec.file": {
        if (lease.bounds.file(frame) === "forward") {
          const { path, encoding, data, more } = frame;
          job.pump.push({ type: "file", path, encoding, data, more }, chars);
        } else {
          job.pump.push({ type: "file_dropped", path: frame.path });
          this.#credit(job, chars);
        }
        return undefined;
      }
      case "exec.finished":
        this.#finish(job, lease.bounds.outcome(frame.outcome));
        return undefined;
    }
  }

  /**
   * A frame of an execution that could not be taken (over the protocol's
   * size, or malformed): that execution alone fails `sandbox_error`.
   */
  failExecution(connId: string, executionId: string, message: string): boolean {
    const held = this.#leaseOf(connId, executionId);
    if (!held) return false;
    this.#dir.send(connId, { type: "exec.cancel", executionId, reason: message.slice(0, 256) });
    this.#finish(held.job, failedOutcome("sandbox_error", message));
    return true;
  }

  /** A connection is gone: what it held fails `agent_lost` (or, not yet taken, goes elsewhere). */
  loseConnection(connId: string, agentId: string, why: string): void {
    for (const job of [...this.#jobs.values()]) {
      const lease = job.lease;
      if (lease?.connId !== connId) continue;
      if (!lease.acked) {
        this.#release(job);
        this.#queue.requeue(job);
        this.#waitInQueue(job, ACK_TIMEOUT_MS);
      } else {
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

  #tooSlow(job: Job): void {
    const message = `the caller took none of the execution's output for ${CLIENT_STALL_MS / 1000} s`;
    this.#end(job, cancelledOutcome({ code: "client_too_slow", message }), "its caller is too slow");
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
