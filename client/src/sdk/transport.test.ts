import { describe, expect, it } from "vitest";
import { Edgeswarm } from "../index.ts";

/** A fetch whose answer arrives but whose body never finishes, and which ignores the signal once it has answered. */
function stalledBody(status: number): typeof fetch {
  return async () =>
    new Response(new ReadableStream({ pull: () => new Promise(() => {}) }), {
      status,
      headers: { "Content-Type": "application/json" },
    });
}

describe("an abort while the answer's body is read", () => {
  // Node 22's fetch can leave res.json() pending for good when aborted as a
  // gzip body ends; the SDK must still settle the call with the abort reason.
  for (const status of [200, 500]) {
    it(`ends the call with the signal's reason (HTTP ${status})`, async () => {
      const swarm = new Edgeswarm({ url: "http://127.0.0.1:9", apiKey: "k", fetch: stalledBody(status) });
      const controller = new AbortController();
      const reason = new Error("gave up");
      const call = swarm.runs.get("run_000000000000000000000000", { signal: controller.signal });
      // Let the call reach the body read before aborting.
      await new Promise((r) => setImmediate(r));
      controller.abort(reason);
      await expect(call).rejects.toBe(reason);
    });
  }
});
