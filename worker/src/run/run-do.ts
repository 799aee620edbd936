import { DurableObject } from "cloudflare:workers";
import {
  type EventPage,
  type EventSource,
  type PayloadOf,
  RUN_MAXIMA,
  type RunEvent,
  type RunEventOf,
  type RunEventType,
  type RunStatus,
  type RunView,
  type TeamStateExport,
  type WorkspaceFile,
} from "@edgeswarm/shared";
import { loadConfig, RUN_RETENTION_DAYS_DEFAULT } from "../config.ts";
import type { Env } from "../env.ts";
import { type Answer, EdgeswarmError, refusal } from "../errors.ts";
import { recordRun } from "../stats/record.ts";
import { STATS_KEY_CHARS } from "../stats/stats-do.ts";
import { teamStateExport, teamTokens } from "../team/export.ts";
import { newSpanId } from "../telemetry/durable.ts";
import { telemetry } from "../telemetry/telemetry.ts";
import { WebhookOutbox } from "../webhooks/outbox.ts";
import { Bus } from "./bus.ts";
import { Driver } from "./driver.ts";
import { EventLog } from "./log.ts";
import { deadlineOf, nextAction } from "./loop.ts";
import { applyEvent, emptyState, foldRun, isTerminal, type RunState } from "./state.ts";
import { MAX_STREAMS, StreamHub } from "./streams.ts";
import { RunTracer, rootCarrier } from "./trace.ts";
import { runView } from "./view.ts";
import { Workspace } from "./workspace.ts";

/** If this object dies mid-drive, its alarm brings the run back this long after. */
const WATCHDOG_MS = 30_000;

const notFound = () => refusal(new EdgeswarmError("not_found", "no such run"));
const invalidState = (message: string) => refusal(new EdgeswarmError("invalid_state", message));

/**
 * One agent run: its event log and workspace in SQLite, its bus, and the
 * driver that runs the loop from alarms. A thin shell; the decisions are in
 * loop.ts, the effects in driver.ts and the roles.
 */
export class RunDO extends DurableObject<Env> {
  readonly #log: EventLog;
  readonly #workspace: Workspace;
  readonly #bus = new Bus();
  readonly #streams = new StreamHub();
  readonly #driver: Driver;
  readonly #webhooks: WebhookOutbox;
  #state: RunState;
  #reported: RunStatus | null = null;
  /** True while this instance's alarm drives the run (a new instance never is). */
  #driving = false;
  /** True once the run was deleted at the end of its retention: this instance holds nothing any more. */
  #expired = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.#log = new EventLog(ctx.storage.sql);
    this.#workspace = new Workspace(ctx.storage.sql);
    this.#webhooks = new WebhookOutbox(ctx.storage.sql, env);
    this.#state = foldRun(this.#log.all());
    const tracer = new RunTracer(
      telemetry(env),
      { id: () => this.#id(), state: () => this.#state, events: (types) => this.#log.ofTypes(types) },
      () => telemetry(env).flushSoon((work) => this.ctx.waitUntil(work)),
    );
    this.#driver = new Driver({
      env,
      state: () => this.#state,
      append: (type, source, payload, idem) => this.#append(type, source, payload, idem),
      workspace: this.#workspace,
      waitUntil: (work) => this.ctx.waitUntil(work),
      tracer,
    });
    // Subscribed first: a step's or the run's span is written out as its end is appended.
    this.#bus.subscribe(["step.finished", "run.finished"], (e) => tracer.onEvent(e));
    this.#bus.subscribe("*", () => this.#streams.publish());
    this.#bus.subscribe("*", () => this.#reportStatus());
    this.#bus.subscribe(["run.finished"], (e) => {
      if (e.type === "run.finished") this.#onFinished(e);
    });
  }

  /** Validate, persist, then publish: the one way an event enters the run. */
  #append<T extends RunEventType>(type: T, source: EventSource, payload: PayloadOf<T>, idem?: string): RunEvent | null {
    // The end is final, until the caller continues the run.
    if (isTerminal(this.#state.status) && type !== "run.continued") return null;
    const event = this.#log.append(type, source, payload, idem);
    if (!event) return null;
    applyEvent(this.#state, event);
    this.#bus.publish(event);
    return event;
  }

  #id(): string {
    const rows = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'id'").toArray();
    return rows[0]?.value ?? "";
  }

  #owns(tenant: string): boolean {
    return !this.#expired && this.#state.created !== null && this.#state.created.tenant === tenant;
  }

  #view(): RunView {
    return runView(this.#id(), this.#state, () => this.#workspace.all(), this.#webhooks.status());
  }

  /**
   * Makes the run's webhook delivery in the same synchronous turn as the
   * terminal event's append, so both are stored together or not at all. The
   * alarm sends it: a drive in progress reschedules the alarm when it ends;
   * otherwise (a cancel while parked) the alarm is woken now.
   */
  #onFinished(e: RunEventOf<"run.finished">): void {
    this.#count(e);
    const url = this.#state.created?.webhookUrl;
    if (url && this.#state.tasks.length > 1) this.#webhooks.replace(url, this.#view(), e.at);
    else if (url) this.#webhooks.enqueue(url, this.#view(), e.at);
    // The alarm now serves the webhook and the run's expiry (see #afterEnd).
    if (!this.#driving) this.ctx.waitUntil(this.#kick());
  }

  /** Counts the ended run in its tenant's statistics, with its tokens by role and model. */
  #count(e: RunEventOf<"run.finished">): void {
    const s = this.#state;
    const created = s.created;
    if (!created) return;
    const tokens = [
      ...(created.planner ? [{ role: "planner", model: created.planner.model, usage: s.usage.planner }] : []),
      { role: "coder", model: created.coder.model, usage: s.usage.coder },
      ...teamTokens(s),
    ]
      .filter((t) => t.usage.inputTokens + t.usage.outputTokens > 0)
      .map((t) => ({
        role: t.role,
        model: t.model.slice(0, STATS_KEY_CHARS),
        input: t.usage.inputTokens,
        output: t.usage.outputTokens,
      }));
    const at = Date.parse(e.at);
    recordRun(
      this.env,
      created.tenant,
      {
        at,
        status: e.payload.status,
        durationMs: Math.max(0, at - Date.parse(s.turnStartedAt ?? e.at)),
        iterations: s.iterations,
        tokens,
      },
      (work) => this.ctx.waitUntil(work),
    );
  }

  /** Keeps the tenant's run list current; a late report never overwrites a newer one (seq). */
  #reportStatus(): void {
    const s = this.#state;
    if (!s.created || s.status === this.#reported) return;
    this.#reported = s.status;
    const entry = {
      id: this.#id(),
      status: s.status,
      task: s.created.task,
      createdAt: s.createdAt ?? "",
      updatedAt: s.updatedAt ?? "",
      seq: s.lastSeq,
    };
    this.ctx.waitUntil(
      this.env.RUN_INDEX.getByName(s.created.tenant)
        .put(entry)
        .catch((err: unknown) => console.error("run index update failed", err)),
    );
  }

  async #kick(): Promise<void> {
    await this.ctx.storage.setAlarm(Date.now());
  }

  // --- RPC, called by the Worker's routes -------------------------------------------

  async create(input: {
    id: string;
    created: PayloadOf<"run.created">;
    files: WorkspaceFile[];
  }): Promise<Answer<RunView>> {
    if (this.#state.created) return invalidState("the run exists already");
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('id', ?)", input.id);
    const { refused } = this.#workspace.put(input.files);
    if (refused.length > 0) {
      const message = `files not accepted: ${refused.map((r) => `${r.path} (${r.why})`).join(", ")}`;
      return refusal(new EdgeswarmError("payload_too_large", message));
    }
    this.#append("run.created", "api", input.created, "create");
    await this.#kick();
    return { ok: true, value: this.#view() };
  }

  async view(tenant: string): Promise<Answer<RunView>> {
    if (!this.#owns(tenant)) return notFound();
    await this.#ensureDriving();
    return { ok: true, value: this.#view() };
  }

  async page(tenant: string, after: number, limit: number): Promise<Answer<EventPage>> {
    if (!this.#owns(tenant)) return notFound();
    await this.#ensureDriving();
    const events = this.#log.after(after, limit);
    const next = events.at(-1)?.seq ?? after;
    return { ok: true, value: { events, next, done: isTerminal(this.#state.status) && next >= this.#state.lastSeq } };
  }

  async cancel(tenant: string): Promise<Answer<RunView>> {
    if (!this.#owns(tenant)) return notFound();
    if (isTerminal(this.#state.status)) {
      return invalidState(`the run has already ended (${this.#state.status})`);
    }
    this.#append(
      "run.finished",
      "api",
      { status: "cancelled", reason: "cancelled", message: "cancelled by the caller" },
      "cancel",
    );
    this.#driver.abort("the run was cancelled");
    return { ok: true, value: this.#view() };
  }

  async approve(
    tenant: string,
    approve: boolean,
    reason: string | null,
    toolCallId?: string,
  ): Promise<Answer<RunView>> {
    if (!this.#owns(tenant)) return notFound();
    const all = [...this.#state.approvals].filter(([, v]) => v === true).map(([id]) => id);
    if (this.#state.status !== "awaiting_approval" || all.length === 0) {
      return invalidState(`the run is not awaiting approval (${this.#state.status})`);
    }
    const waiting = toolCallId ?? all[0];
    if (!waiting || !all.includes(waiting)) {
      return invalidState(`tool call '${toolCallId}' is not awaiting approval; waiting: ${all.join(", ")}`);
    }
    this.#append("approval.decided", "api", { toolCallId: waiting, approve, reason }, `approval:${waiting}`);
    await this.#kick();
    return { ok: true, value: this.#view() };
  }

  /**
   * A message from the caller: the answer a swarm that handed off to the
   * user waits for, or, once the run has ended, its next task turn (the
   * conversation and the workspace stay). Refused while the run works.
   * `activeRuns` is the index's to check: `reserve` is asked first.
   */
  async send(tenant: string, text: string, activeRuns: number): Promise<Answer<RunView>> {
    if (!this.#owns(tenant)) return notFound();
    const s = this.#state;
    if (s.status === "awaiting_input") {
      this.#append("team.message", "api", { speaker: "user", text, toolCalls: [], usage: null }, `input:${s.lastSeq}`);
    } else if (isTerminal(s.status)) {
      const created = s.created;
      if (!created) return notFound();
      if (s.tasks.length >= RUN_MAXIMA.taskTurns) {
        return refusal(
          new EdgeswarmError(
            "quota_exceeded",
            `the run has had its ${RUN_MAXIMA.taskTurns} task turns; start a new one (fromState)`,
            {
              details: { quota: "taskTurns", limit: RUN_MAXIMA.taskTurns },
            },
          ),
        );
      }
      const index = this.env.RUN_INDEX.getByName(tenant);
      const now = new Date().toISOString();
      const entry = {
        id: this.#id(),
        status: "running" as const,
        task: created.task,
        createdAt: s.createdAt ?? now,
        updatedAt: now,
        seq: s.lastSeq + 1,
      };
      const seq = s.lastSeq;
      const reopened = await index.reopen(entry, activeRuns);
      if (!reopened.ok) return reopened;
      // Another message may have continued the run while the index answered.
      if (this.#state.lastSeq !== seq) return invalidState("the run was continued by another message; send again");
      const spanId = created.trace ? { spanId: newSpanId() } : {};
      this.#append("run.continued", "api", { text, turn: s.tasks.length, ...spanId }, `continue:${seq}`);
    } else {
      return invalidState(`the run is ${s.status}: send a message once it awaits input or has ended`);
    }
    await this.#kick();
    return { ok: true, value: this.#view() };
  }

  /** The team's state, for `GET /v1/runs/:id/state`. */
  async exportState(tenant: string): Promise<Answer<TeamStateExport>> {
    if (!this.#owns(tenant)) return notFound();
    const exported = teamStateExport(this.#state);
    if (!exported)
      return invalidState("the run has the default team, which has no team state: its events are its state");
    return { ok: true, value: exported };
  }

  /**
   * The run's events as an SSE byte stream, from the first after `after` (a
   * reconnecting caller's Last-Event-ID): every event so far, then each as it
   * is appended, until the run ends.
   */
  async events(tenant: string, after: number): Promise<Answer<ReadableStream<Uint8Array>>> {
    if (!this.#owns(tenant)) return notFound();
    if (this.#streams.size >= MAX_STREAMS) {
      return refusal(
        new EdgeswarmError("quota_exceeded", `this run already serves ${MAX_STREAMS} event streams`, {
          details: { quota: "eventStreams", limit: MAX_STREAMS },
          retryAfterS: 5,
        }),
      );
    }
    await this.#ensureDriving();
    const source = {
      after: (seq: number, limit: number) => this.#log.after(seq, limit),
      ended: () => isTerminal(this.#state.status),
    };
    return { ok: true, value: this.#streams.open(source, after) };
  }

  // --- the loop ---------------------------------------------------------------------

  /**
   * A run with work to do and no drive running (its object restarted mid-drive,
   * so only the watchdog alarm is left) is kicked now rather than at the watchdog.
   */
  async #ensureDriving(): Promise<void> {
    if (this.#driving || !this.#state.created || isTerminal(this.#state.status)) return;
    const action = nextAction(this.#state, Date.now());
    if (action.kind !== "idle" && action.kind !== "wait") await this.#kick();
  }

  override async alarm(): Promise<void> {
    if (!this.#state.created) return;
    if (isTerminal(this.#state.status)) return this.#afterEnd();
    await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
    this.#driving = true;
    let action: Awaited<ReturnType<Driver["drive"]>>;
    try {
      action = await this.#driver.drive();
    } finally {
      this.#driving = false;
    }
    const s = this.#state;
    if (isTerminal(s.status)) return this.#afterEnd();
    if (!s.created || !s.createdAt) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const deadline = deadlineOf(s);
    const until = action.kind === "wait" ? Math.min(action.until, deadline) : deadline;
    await this.ctx.storage.setAlarm(until);
  }

  /**
   * After the end, the alarm serves the webhook and then the run's expiry. A
   * webhook attempt is made if one is due, with the alarm first set past its
   * timeout, so that an attempt cut off by a restart is made again. Once the
   * retention period has passed, the run is deleted: its storage, and its
   * line in the tenant's list.
   */
  async #afterEnd(): Promise<void> {
    const created = this.#state.created;
    if (!created) return;
    const config = await loadConfig(this.env).catch(() => null);
    const retention = config?.runRetentionMs ?? RUN_RETENTION_DAYS_DEFAULT * 86_400_000;
    const expiresAt = Date.parse(this.#state.finishedAt ?? this.#state.updatedAt ?? "") + retention;
    if (Date.now() >= expiresAt) return this.#expire(created.tenant);
    await this.#webhooks.deliverDue(created.tenant, (at) => this.ctx.storage.setAlarm(at), rootCarrier(created.trace));
    const next = this.#webhooks.nextAt();
    await this.ctx.storage.setAlarm(Math.min(next ?? expiresAt, expiresAt));
  }

  /** Deletes the ended run for good. Its list entry goes first: from then on it answers 404. */
  async #expire(tenant: string): Promise<void> {
    await this.env.RUN_INDEX.getByName(tenant).remove(this.#id());
    this.#expired = true;
    this.#state = emptyState();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }
}
