// A run's live event stream. EventSource cannot send an Authorization header,
// so this reads the SSE answer with fetch and parses it itself. After a drop it
// reconnects with Last-Event-ID set to the last seq it saw: the Worker resumes
// from there, so no event is missed or shown twice.

import { ApiError, authHeaders, check } from "./api.js";

/** Consecutive failed connections before giving up (the delay grows to 10 s). */
const MAX_FAILURES = 20;
const MAX_DELAY_MS = 10_000;

/**
 * Parses an SSE body into frames `{id, event, data}`; comment lines (the
 * Worker's keep-alives) are skipped. Exported for the unit test.
 */
export async function* sseFrames(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value.replace(/\r\n?/g, "\n");
      let end = buffered.indexOf("\n\n");
      while (end >= 0) {
        const frame = parseFrame(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
        if (frame) yield frame;
        end = buffered.indexOf("\n\n");
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function parseFrame(block) {
  const frame = { id: null, event: "message", data: [] };
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") frame.data.push(value);
    else if (field === "id") frame.id = value;
    else if (field === "event") frame.event = value;
  }
  return frame.data.length > 0 ? { ...frame, data: frame.data.join("\n") } : null;
}

function wait(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Follows run `id` from the event after seq `after`: calls `onEvent(event)`
 * for each event in order, and `onState(state, error?)` with "connecting",
 * "live", "reconnecting", "ended" (after run.finished) or "failed". Returns a
 * function that stops following. A run that is continued after it ended
 * (run.continued) is followed again by calling this with the last seq seen.
 */
export function followRun(id, { onEvent, onState, after = 0 }) {
  const controller = new AbortController();
  const { signal } = controller;
  let last = after;
  let failures = 0;
  const run = async () => {
    onState("connecting");
    while (!signal.aborted) {
      try {
        const headers = authHeaders({ Accept: "text/event-stream" });
        if (last > 0) headers["Last-Event-ID"] = String(last);
        const res = await check(await fetch(`/v1/runs/${encodeURIComponent(id)}/events`, { headers, signal }));
        failures = 0;
        onState("live");
        for await (const frame of sseFrames(res.body)) {
          const event = JSON.parse(frame.data);
          if (typeof event?.seq !== "number" || event.seq <= last) continue;
          last = event.seq;
          onEvent(event);
          if (event.type === "run.finished") {
            onState("ended");
            return;
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        // A refusal (bad key, no such run) will not heal by retrying.
        if (err instanceof ApiError && err.status < 500 && err.status !== 429) {
          onState("failed", err);
          return;
        }
      }
      if (signal.aborted) return;
      failures += 1;
      if (failures > MAX_FAILURES) {
        onState("failed", new Error("the event stream kept dropping; reload the page to try again"));
        return;
      }
      onState("reconnecting");
      await wait(Math.min(500 * 2 ** (failures - 1), MAX_DELAY_MS), signal);
    }
  };
  run();
  return () => controller.abort();
}
