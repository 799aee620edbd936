import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { describe, expect, it } from "vitest";
import { newSpanId, readableSpan } from "./durable.ts";
import { EXPORT_BATCH_MAX, SPAN_OUTBOX_MAX, SpanOutbox } from "./outbox.ts";

const resource = resourceFromAttributes({ "service.name": "test" });
const span = () =>
  readableSpan(
    {
      traceId: "ab".repeat(16),
      spanId: newSpanId(),
      parentSpanId: null,
      sampled: true,
      name: "s",
      startMs: Date.now(),
      endMs: Date.now(),
      attributes: { "edgeswarm.test": true },
      events: [],
    },
    resource,
    { name: "test", version: "0" },
  );

/** A collector on loopback that answers `status` and counts requests and their sizes. */
async function collector(status: number) {
  const seen: number[] = [];
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on("data", (c: Buffer) => {
      bytes += c.length;
    });
    req.on("end", () => {
      seen.push(bytes);
      res.writeHead(status).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await new Promise((done) => server.once("listening", done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  return { url, seen, close: () => new Promise((done) => server.close(done)) };
}

describe("the Worker's span outbox", () => {
  it("holds at most SPAN_OUTBOX_MAX spans and counts the rest as dropped", () => {
    const outbox = new SpanOutbox({ url: "http://127.0.0.1:9/v1/traces", headers: {}, protocol: "http/json" });
    for (let i = 0; i < SPAN_OUTBOX_MAX * 3; i++) outbox.onEnd(span());
    expect(outbox.pending).toBe(SPAN_OUTBOX_MAX);
    expect(outbox.counts.dropped).toBe(SPAN_OUTBOX_MAX * 2);
  });

  it("sends in batches, and a collector that fails costs the spans, counted, and nothing more", async () => {
    const ok = await collector(200);
    const outbox = new SpanOutbox({ url: ok.url, headers: {}, protocol: "http/protobuf" });
    for (let i = 0; i < EXPORT_BATCH_MAX + 10; i++) outbox.onEnd(span());
    await outbox.flush();
    expect(ok.seen).toHaveLength(2);
    expect(outbox.counts).toEqual({ exported: EXPORT_BATCH_MAX + 10, dropped: 0, failedExports: 0 });
    await ok.close();

    const failing = await collector(500);
    const drops: number[] = [];
    const bad = new SpanOutbox({ url: failing.url, headers: {}, protocol: "http/json" }, (c) => drops.push(c.dropped));
    for (let i = 0; i < 10; i++) bad.onEnd(span());
    await bad.flush();
    expect(bad.pending).toBe(0);
    expect(bad.counts).toEqual({ exported: 0, dropped: 10, failedExports: 1 });
    expect(drops).toEqual([10]);
    await failing.close();

    // Nobody listening: the same.
    const gone = new SpanOutbox({ url: failing.url, headers: {}, protocol: "http/json" });
    gone.onEnd(span());
    await gone.flush();
    expect(gone.counts).toMatchObject({ dropped: 1, failedExports: 1 });
  });

  it("drops what is not sampled without holding it", () => {
    const outbox = new SpanOutbox({ url: "http://127.0.0.1:9/v1/traces", headers: {}, protocol: "http/json" });
    const unsampled = {
      ...span(),
      spanContext: () => ({ traceId: "ab".repeat(16), spanId: newSpanId(), traceFlags: 0 }),
    };
    outbox.onEnd(unsampled);
    expect(outbox.pending).toBe(0);
    expect(outbox.counts.dropped).toBe(0);
  });
});
