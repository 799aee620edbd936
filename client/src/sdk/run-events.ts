import { type EventPage, RunEvent, type RunView, TERMINAL_RUN_STATUSES } from "@edgeswarm/shared";
import { EdgeswarmApiError, EdgeswarmError, EdgeswarmUnreachableError, isAbort } from "./errors.ts";
import { backoffMs, type RetryOptions, sleep } from "./retry.ts";
import { parseSse } from "./sse.ts";
import { parseAnswer, type Transport } from "./transport.ts";

/** @internal How the follower reads the run when its stream closes early. */
export interface RunSource {
  view(signal?: AbortSignal): Promise<RunView>;
  page(after: number, signal?: AbortSignal, limit?: number): Promise<EventPage>;
}

export interface FollowOptions {
  /** Start after this event sequence number (0, the default: from the first event). */
  after?: number;
  signal?: AbortSignal;
}

/** Statuses worth retrying: the Worker restarting, overloaded, or a gateway in between. */
function retryable(err: unknown): boolean {
  if (err instanceof EdgeswarmUnreachableError) return true;
  if (err instanceof EdgeswarmApiError) return err.status === 429 || err.status >= 500;
  // The body broke off mid-stream (a reset connection): fetch throws a TypeError from the reader.
  return !(err instanceof EdgeswarmError);
}

/**
 * @internal A run's events over SSE, resumed after any dropped connection
 * from the last sequence number seen (sent as `Last-Event-ID`), so each event
 * is yielded exactly once and in order. Gives up after `retry.attempts`
 * failures in a row (any event that arrives resets the count), and ends after
 * a `run.finished` that is the log's last event, or when the run is already
 * over and nothing is left. A run continued after it ended (a message sent to
 * it) has one `run.finished` per turn; following it from before an earlier
 * one goes on into the next turn.
 */
export async function* followRunEvents(
  transport: Transport,
  id: string,
  retry: RetryOptions,
  source: RunSource,
  options: FollowOptions = {},
): AsyncGenerator<RunEvent> {
  const { signal } = options;
  let last = options.after ?? 0;
  if (!Number.isInteger(last) || last < 0) throw new TypeError(`after must be a whole number >= 0, got ${last}`);
  let failures = 0;
  for (;;) {
    signal?.throwIfAborted();
    let failure: unknown;
    try {
      const res = await transport.send(`/v1/runs/${encodeURIComponent(id)}/events`, {
        headers: { Accept: "text/event-stream", ...(last > 0 ? { "Last-Event-ID": String(last) } : {}) },
        signal,
      });
      if (!res.body) throw new EdgeswarmError("invalid_response", "the event stream came without a body");
      for await (const message of parseSse(res.body, { signal })) {
        let json: unknown;
        try {
          json = JSON.parse(message.data);
        } catch (cause) {
          throw new EdgeswarmError("invalid_response", `event ${message.id ?? "?"} of run ${id} is not JSON`, {
            cause,
          });
        }
        const event = parseAnswer(RunEvent, json, `event ${message.id ?? "?"} of run ${id}`) as RunEvent;
        // The server resumes after Last-Event-ID; anything at or before it would be a repeat.
        if (event.seq <= last) continue;
        last = event.seq;
        failures = 0;
        yield event;
        // A run taken up again (POST /messages) has a run.finished per turn: only one with nothing after it ends.
        if (event.type === "run.finished" && (await endsTheLog(source, last, signal))) return;
      }
      // The stream closed without run.finished: either the run had already
      // ended (nothing left after `last`) or the connection was cut cleanly.
      const view = await source.view(signal);
      if ((TERMINAL_RUN_STATUSES as readonly string[]).includes(view.status)) {
        const tail = await drainPages(source, last, signal);
        for (const event of tail) yield event;
        return;
      }
    } catch (err) {
      if (isAbort(err, signal) || signal?.aborted) throw signal?.reason ?? err;
      if (!retryable(err)) throw err;
      failure = err;
    }
    failures++;
    if (failures > retry.attempts) {
      if (failure instanceof EdgeswarmError) throw failure;
      throw new EdgeswarmUnreachableError(transport.baseUrl, failure ?? new Error("the event stream kept closing"));
    }
    await sleep(backoffMs(failures, retry), signal);
  }
}

/** Whether nothing follows event `seq` in the run's log (one small page asked for). */
async function endsTheLog(source: RunSource, seq: number, signal?: AbortSignal): Promise<boolean> {
  const { events } = await source.page(seq, signal, 1);
  return events.length === 0;
}

/** Events after `after` from the JSON pages: the rest of an ended run that the closed stream did not carry. */
async function drainPages(source: RunSource, after: number, signal?: AbortSignal): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  // Bounded: a run's log is finite, and each page moves `after` forward or ends.
  for (let page = 0; page < 10_000; page++) {
    const { events } = await source.page(after, signal);
    if (events.length === 0) return out;
    out.push(...events);
    after = events.at(-1)?.seq ?? after;
  }
  return out;
}
