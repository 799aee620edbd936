import {
  type ApprovalRequest,
  EventPage,
  type RunEvent,
  RunList,
  type RunRequestInput,
  type RunSummary,
  RunView,
  SendMessageRequest,
  TEAM_MESSAGE_CHARS,
  TERMINAL_RUN_STATUSES,
  TeamStateExport,
} from "@edgeswarm/shared";
import { type WaitingCall, waitingCalls } from "./approvals.ts";
import type { RetryOptions } from "./retry.ts";
import { type FollowOptions, followRunEvents, type RunSource } from "./run-events.ts";
import type { CallOptions, Transport } from "./transport.ts";

/** `POST /v1/runs` answers with the new run's id, status and links. */
export const RunCreated = RunView.pick({ id: true, status: true, links: true });
export type RunCreated = ReturnType<typeof RunCreated.parse>;

/** The most a page of `GET /v1/runs` holds. */
export const RUN_LIST_MAX = 100;

/** The runs API: start agent runs, read and follow them, steer them. */
export class Runs {
  readonly #t: Transport;
  readonly #retry: RetryOptions;

  /** @internal */
  constructor(transport: Transport, retry: RetryOptions) {
    this.#t = transport;
    this.#retry = retry;
  }

  /**
   * Starts a run: the default team (planner, then coder), or the `team` it
   * names, or, with `fromState` (what {@link Runs.state} gave), a team that
   * goes on with an earlier run's conversation, `task` being its next turn.
   * @example const { id } = await swarm.runs.create({ task: "Print the 100th prime.", planner: null });
   * @example
   * const team = { kind: "round_robin", participants: [{ name: "coder", role: "coder" }, { name: "reviewer", role: "assistant" }],
   *   termination: { textMention: "APPROVE", sources: ["reviewer"] } } as const;
   * const { id } = await swarm.runs.create({ task: "Print 2 + 2.", team });
   */
  create(body: RunRequestInput, options: CallOptions = {}): Promise<RunCreated> {
    return this.#t.json(RunCreated, "/v1/runs", { method: "POST", body, signal: options.signal });
  }

  /** The run as it is now: status, plan, iterations, result, usage, error. */
  get(id: string, options: CallOptions = {}): Promise<RunView> {
    return this.#t.json(RunView, path(id), { signal: options.signal });
  }

  /** One page of the tenant's runs, newest first; pass `nextCursor` back as `cursor` for the next. */
  list(options: { limit?: number; cursor?: string | null } & CallOptions = {}): Promise<RunList> {
    if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 1)) {
      throw new TypeError(`runs.list: limit must be a whole number from 1 to ${RUN_LIST_MAX}, got ${options.limit}`);
    }
    return this.#t.json(RunList, "/v1/runs", {
      query: { limit: options.limit, cursor: options.cursor ?? undefined },
      signal: options.signal,
    });
  }

  /**
   * Every run of the tenant, newest first, fetching pages as the loop asks.
   * @example for await (const run of swarm.runs.all()) console.log(run.id, run.status);
   */
  async *all(options: { pageSize?: number } & CallOptions = {}): AsyncGenerator<RunSummary> {
    let cursor: string | null = null;
    const seen = new Set<string>();
    do {
      const page: RunList = await this.list({
        limit: options.pageSize ?? RUN_LIST_MAX,
        cursor,
        signal: options.signal,
      });
      yield* page.runs;
      cursor = page.nextCursor;
      // A cursor that comes back twice would loop forever; the contract says it never does.
      if (cursor !== null) {
        if (seen.has(cursor)) return;
        seen.add(cursor);
      }
    } while (cursor !== null);
  }

  /**
   * The run's events as they happen (SSE), from the first (or after `after`),
   * resuming by itself after a dropped connection with no gap or repeat, and
   * ending after the last `run.finished` (a run continued with `send` has one
   * per turn).
   * @example for await (const e of swarm.runs.events(id)) console.log(e.seq, e.type);
   */
  events(id: string, options: FollowOptions = {}): AsyncGenerator<RunEvent> {
    const source: RunSource = {
      view: (signal) => this.get(id, { signal }),
      page: (after, signal, limit) => this.eventPage(id, { after, limit, signal }),
    };
    return followRunEvents(this.#t, id, this.#retry, source, options);
  }

  /** One JSON page of the run's events after `after` (the log so far, without following). */
  async eventPage(id: string, options: { after?: number; limit?: number } & CallOptions = {}): Promise<EventPage> {
    return (await this.#t.json(EventPage, `${path(id)}/events`, {
      query: { after: options.after ?? 0, limit: options.limit },
      signal: options.signal,
    })) as EventPage;
  }

  /**
   * Resolves with the run once it has ended (`succeeded`, `failed`, `cancelled` or `timed_out`).
   * @example const run = await swarm.runs.wait(id, { signal: AbortSignal.timeout(600_000) });
   */
  async wait(id: string, options: CallOptions = {}): Promise<RunView> {
    const now = await this.get(id, options);
    if (isTerminal(now)) return now;
    // To the events' end, not the first run.finished: a continued run has one per turn.
    for await (const _ of this.events(id, { signal: options.signal }));
    return this.get(id, options);
  }

  /** Ends the run as `cancelled` and kills its running container; 409 `invalid_state` if it has already ended. */
  cancel(id: string, options: CallOptions = {}): Promise<RunView> {
    return this.#t.json(RunView, `${path(id)}/cancel`, { method: "POST", signal: options.signal });
  }

  /**
   * Approves (or, with `approve: false`, denies) a call the run is parked on:
   * the one `toolCallId` names, else the first waiting. A reply with several
   * run_code calls waits until each is decided; the approved ones then run.
   * A `toolCallId` that is not waiting is a 409 `invalid_state` naming those that are.
   * @example
   * for (const call of await swarm.runs.waiting(id)) {
   *   await swarm.runs.approve(id, { approve: !call.code.includes("rm -rf"), toolCallId: call.toolCallId });
   * }
   */
  approve(id: string, decision: ApprovalRequest, options: CallOptions = {}): Promise<RunView> {
    return this.#t.json(RunView, `${path(id)}/approval`, { method: "POST", body: decision, signal: options.signal });
  }

  /**
   * Sends the run a message, and resolves with the run. A swarm that handed
   * off to the user (status `awaiting_input`) takes it as the answer it waits
   * for; a run that has ended takes it as its next task turn and goes on
   * (status back to `running`), with its conversation and workspace. While
   * the run works, it is a 409 `invalid_state`.
   * @example
   * const run = await swarm.runs.get(id);
   * if (run.status === "awaiting_input") await swarm.runs.send(id, "Use data.csv.");
   */
  send(id: string, text: string, options: CallOptions = {}): Promise<RunView> {
    const body = SendMessageRequest.safeParse({ text });
    if (!body.success) {
      throw new TypeError(`runs.send: text must be a non-empty string of at most ${TEAM_MESSAGE_CHARS} characters`);
    }
    return this.#t.json(RunView, `${path(id)}/messages`, { method: "POST", body: body.data, signal: options.signal });
  }

  /**
   * A team run's state: its team, task turns, conversation and whose turn it
   * is. Save it, and pass it back as `fromState` to `runs.create` to go on
   * with the conversation in a new run. A run of the default team has none
   * (409 `invalid_state`).
   * @example
   * const state = await swarm.runs.state(id);
   * await swarm.runs.create({ task: "And now the tests.", fromState: state });
   */
  state(id: string, options: CallOptions = {}): Promise<TeamStateExport> {
    return this.#t.json(TeamStateExport, `${path(id)}/state`, { signal: options.signal });
  }

  /**
   * The calls the run waits on for a decision, in the order asked, each with
   * its code and files; empty unless the run is `awaiting_approval`. Read from
   * the event log, page by page.
   */
  async waiting(id: string, options: CallOptions = {}): Promise<WaitingCall[]> {
    const events: RunEvent[] = [];
    let after = 0;
    // Bounded: each page moves `after` on or ends the loop.
    for (let page = 0; page < 100_000; page++) {
      const { events: got } = await this.eventPage(id, { after, limit: 1000, signal: options.signal });
      if (got.length === 0) break;
      events.push(...got.filter((e) => e.type.startsWith("approval.") || e.type === "run.finished"));
      after = got.at(-1)?.seq ?? after;
    }
    return waitingCalls(events);
  }
}

/** Whether a run has reached a terminal status. */
export function isTerminal(run: Pick<RunView, "status">): boolean {
  return TERMINAL_RUN_STATUSES.includes(run.status);
}

function path(id: string): string {
  return `/v1/runs/${encodeURIComponent(id)}`;
}
