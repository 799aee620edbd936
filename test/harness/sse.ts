import { parseSse, type SseMessage } from "../../client/src/sdk/sse.ts";

/**
 * An SSE body's events' `data` (JSON), with the time each arrived; parsed by
 * the SDK's own parser, so the suites read streams exactly as clients do.
 */
export async function* sseData(body: NonNullable<Response["body"]>): AsyncGenerator<{ data: unknown; at: number }> {
  for await (const message of parseSse(body)) yield { data: JSON.parse(message.data), at: performance.now() };
}

/** The events of an SSE body already read whole, by the same parser. */
export async function sseEvents(text: string): Promise<SseMessage[]> {
  const events: SseMessage[] = [];
  const body = new Response(text).body;
  if (body) for await (const message of parseSse(body)) events.push(message);
  return events;
}
