import type { RunStatus, RunView } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { type WaitableRun, waitForRun } from "./wait.ts";

const encoder = new TextEncoder();

/** A run whose status the test sets, and whose event stream the test writes. */
function fakeRun(status: RunStatus) {
  const state = { status, views: 0, streams: 0, cancelled: false };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      state.cancelled = true;
    },
  });
  const run: WaitableRun = {
    async view() {
      state.views++;
      return { ok: true, value: { id: "run_000000000000000000000001", status: state.status } as RunView };
    },
    async events() {
      state.streams++;
      return { ok: true, value: stream };
    },
  };
  const write = (text: string) => controller.enqueue(encoder.encode(text));
  return { run, state, write, close: () => controller.close() };
}

const frame = (type: string, seq: number) => `id: ${seq}\nevent: ${type}\ndata: {}\n\n`;
const never = new AbortController().signal;

describe("waitForRun", () => {
  it("answers a settled run at once, without opening its stream", async () => {
    for (const status of ["succeeded", "awaiting_approval", "awaiting_input"] as const) {
      const { run, state } = fakeRun(status);
      expect((await waitForRun(run, "t", 10_000, never)).status).toBe(status);
      expect(state.streams).toBe(0);
    }
  });

  it("reads the view only after an event that can settle the run, and answers once it has", async () => {
    const { run, state, write } = fakeRun("running");
    const waiting = waitForRun(run, "t", 10_000, never);
    await new Promise((r) => setTimeout(r, 10));
    write(frame("execution.output", 1) + frame("execution.finished", 2));
    await new Promise((r) => setTimeout(r, 10));
    expect(state.views).toBe(1); // the first look only
    state.status = "awaiting_approval";
    write(frame("approval.requested", 3));
    expect((await waiting).status).toBe("awaiting_approval");
    expect(state.views).toBe(2);
    expect(state.cancelled).toBe(true); // its stream slot freed
  });

  it("sees a marker split across two chunks", async () => {
    const { run, state, write } = fakeRun("running");
    const waiting = waitForRun(run, "t", 10_000, never);
    await new Promise((r) => setTimeout(r, 10));
    state.status = "succeeded";
    const text = frame("run.finished", 4);
    write(text.slice(0, 20));
    write(text.slice(20));
    expect((await waiting).status).toBe("succeeded");
  });

  it("answers the view once the stream closes (the run ended)", async () => {
    const { run, state, close } = fakeRun("running");
    const waiting = waitForRun(run, "t", 10_000, never);
    await new Promise((r) => setTimeout(r, 10));
    state.status = "failed";
    close();
    expect((await waiting).status).toBe("failed");
  });

  it("answers the current view at its timeout, or when its caller leaves", async () => {
    const { run, state } = fakeRun("running");
    const started = Date.now();
    expect((await waitForRun(run, "t", 200, never)).status).toBe("running");
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(state.cancelled).toBe(true);

    const left = new AbortController();
    const waiting = waitForRun(fakeRun("planning").run, "t", 10_000, left.signal);
    left.abort();
    expect((await waiting).status).toBe("planning");
  });

  it("answers at once for a timeout of 0", async () => {
    const { run, state } = fakeRun("queued");
    expect((await waitForRun(run, "t", 0, never)).status).toBe("queued");
    expect(state.streams).toBe(0);
  });
});
