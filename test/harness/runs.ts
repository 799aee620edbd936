import type { RunEvent, RunRequestInput, RunView } from "@edgeswarm/shared";
import { within } from "../../scripts/lib/wait.ts";
import { type FakeReply, type RecordedRequest, reply } from "../fakes/server.ts";
import type { Api } from "./api.ts";
import { sseData } from "./sse.ts";

/** Starts a run; throws with the error body if the API refuses it. */
export async function createRun(api: Api, body: RunRequestInput): Promise<string> {
  const res = await api.raw("/v1/runs", JSON.stringify(body));
  const json = (await res.json()) as { id?: string };
  if (res.status !== 201 || !json.id) throw new Error(`POST /v1/runs answered ${res.status}: ${JSON.stringify(json)}`);
  return json.id;
}

/**
 * Follows a run's SSE stream from `after` and yields each event as it comes,
 * ending after run.finished. `signal` drops the connection.
 */
export async function* followRun(
  api: Api,
  id: string,
  options: { lastEventId?: number; signal?: AbortSignal } = {},
): AsyncGenerator<RunEvent> {
  const headers = api.headers({ Accept: "text/event-stream" });
  if (options.lastEventId !== undefined) headers["Last-Event-ID"] = String(options.lastEventId);
  const res = await fetch(`${api.url}/v1/runs/${id}/events`, { headers, signal: options.signal });
  if (!res.ok || !res.body) throw new Error(`GET events answered ${res.status}: ${await res.text()}`);
  for await (const { data } of sseData(res.body)) {
    const event = data as RunEvent;
    yield event;
    if (event.type === "run.finished") return;
  }
}

/** Waits (by following its events) until the run ends, then returns its view and every event. */
export async function runToEnd(
  api: Api,
  id: string,
  timeoutMs = 30_000,
): Promise<{ view: RunView; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  await within(
    (async () => {
      for await (const e of followRun(api, id)) events.push(e);
    })(),
    timeoutMs,
    `run ${id} to end`,
  );
  return { view: await getRun(api, id), events };
}

export async function getRun(api: Api, id: string): Promise<RunView> {
  const res = await api.get(`/v1/runs/${id}`);
  if (!res.ok) throw new Error(`GET /v1/runs/${id} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as RunView;
}

/** The text of every tool result the coder's last request carried (Anthropic wire format). */
export function anthropicToolResults(body: unknown): string[] {
  const messages = (body as { messages?: { role: string; content: unknown }[] }).messages ?? [];
  const last = messages.at(-1);
  if (!last || !Array.isArray(last.content)) return [];
  return (last.content as { type?: string; content?: unknown }[])
    .filter((b) => b.type === "tool_result")
    .map((b) => (typeof b.content === "string" ? b.content : JSON.stringify(b.content)));
}

/**
 * The `[case:<name>]` tag in a coder request's first message: suites that share
 * one fake coder put it in each run's task to say which script answers.
 */
export function caseOf(request: RecordedRequest): string | undefined {
  const first = (request.body as { messages?: { content: unknown }[] } | undefined)?.messages?.[0]?.content;
  const text =
    typeof first === "string"
      ? first
      : Array.isArray(first)
        ? first.map((b: { text?: string }) => b.text ?? "").join("")
        : "";
  return /\[case:([\w-]+)\]/.exec(text)?.[1];
}

/** How many turns the coder has had in a request's conversation (its assistant messages). */
export function turnOf(request: RecordedRequest): number {
  const messages = (request.body as { messages?: { role: string }[] } | undefined)?.messages ?? [];
  return messages.filter((m) => m.role === "assistant").length;
}

/** One case's answers: given the turn (replies the coder already gave) and the request. */
export type CoderScript = (turn: number, request: RecordedRequest) => FakeReply | Promise<FakeReply>;

/**
 * A fake coder's default handler that answers each `[case:<name>]` with its
 * script from `scripts` (set by each test). A request with no script gets a
 * 400, so a stray run fails loudly instead of borrowing another test's answers.
 */
export function byCase(scripts: ReadonlyMap<string, CoderScript>) {
  return (request: RecordedRequest): FakeReply | Promise<FakeReply> => {
    const name = caseOf(request);
    const script = name ? scripts.get(name) : undefined;
    if (!script) return reply.error(400, `the fake coder has no script for case ${name}`);
    return script(turnOf(request), request);
  };
}
