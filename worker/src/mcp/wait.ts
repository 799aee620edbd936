import { type RunView, TERMINAL_RUN_STATUSES } from "@edgeswarm/shared";
import { type Answer, unwrap } from "../errors.ts";

/** The two calls of a run's object that a wait uses (a RunDO stub has them). */
export interface WaitableRun {
  view(tenant: string): Promise<Answer<RunView>>;
  events(tenant: string, after: number): Promise<Answer<ReadableStream<Uint8Array>>>;
}

/**
 * The events after which a run may have settled: ended, or waiting on its
 * caller. run/state.ts sets those statuses on these events only. Were another
 * added, a wait would still end, at its timeout, with the current view.
 */
const SETTLING = ["run.finished", "approval.requested", "team.message"].map((type) => `event: ${type}\n`);
/** Characters kept from one chunk to the next, so a marker split across two is still seen. */
const CARRY = Math.max(...SETTLING.map((m) => m.length));

/** Whether waiting longer can change the run: it has ended, or it waits for an approval or an answer. */
export function settled(view: RunView): boolean {
  return (
    TERMINAL_RUN_STATUSES.includes(view.status) ||
    view.status === "awaiting_approval" ||
    view.status === "awaiting_input"
  );
}

/**
 * The run's view once it has settled, or at `timeoutMs`, whichever is first.
 * It follows the run's own event stream, which closes when the run ends, and
 * asks for the view only after an event that can settle it: no polling.
 *
 * @example const view = await waitForRun(stub, tenant.id, 30_000, request.signal);
 */
export async function waitForRun(
  run: WaitableRun,
  tenant: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<RunView> {
  const now = unwrap(await run.view(tenant));
  if (settled(now) || timeoutMs === 0) return now;

  const stop = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  const stopped = new Promise<null>((resolve) => {
    if (stop.aborted) resolve(null);
    stop.addEventListener("abort", () => resolve(null), { once: true });
  });
  const reader = unwrap(await run.events(tenant, 0)).getReader();
  const decoder = new TextDecoder();
  let carry = "";
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), stopped]).catch(() => null);
      if (next === null || next.done) break; // the wait is over, or the stream closed: the run ended
      const text = carry + decoder.decode(next.value, { stream: true });
      carry = text.slice(-CARRY);
      if (SETTLING.some((marker) => text.includes(marker))) {
        const view = unwrap(await run.view(tenant));
        if (settled(view)) return view;
      }
    }
  } finally {
    // Frees the run's stream slot at once, rather than at its next keep-alive.
    reader.cancel().catch(() => {});
  }
  return unwrap(await run.view(tenant));
}
