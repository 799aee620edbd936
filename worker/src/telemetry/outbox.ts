import type { OtlpProtocol } from "@edgeswarm/shared";
import type { Context } from "@opentelemetry/api";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace";

/** Most ended spans an isolate holds for export; past it, new ones are dropped and counted. */
export const SPAN_OUTBOX_MAX = 2_048;
/** Most spans in one OTLP request. */
export const EXPORT_BATCH_MAX = 512;
/** An export that takes longer is given up (its spans dropped). */
export const EXPORT_TIMEOUT_MS = 5_000;

/** Where spans go. */
export interface OtlpTarget {
  url: string;
  headers: Record<string, string>;
  protocol: OtlpProtocol;
}

/** What the outbox has done since the isolate started. */
export interface OutboxCounts {
  exported: number;
  /** Spans that never reached the collector: the outbox was full, or an export failed. */
  dropped: number;
  failedExports: number;
}

/**
 * The Worker's span processor and exporter in one. Ended spans wait here, at
 * most SPAN_OUTBOX_MAX of them, until a flush sends them over OTLP/HTTP with
 * fetch. A flush runs after the answer (under waitUntil), so exporting never
 * delays or fails a request; when the collector is down or slow, spans are
 * dropped and counted, never queued without bound. Workers have no timers
 * that outlive a request, hence no batching interval: each request's
 * waitUntil flushes what has ended by then.
 */
export class SpanOutbox implements SpanProcessor {
  readonly #target: OtlpTarget;
  readonly #onDrop: (counts: OutboxCounts) => void;
  #spans: ReadableSpan[] = [];
  /** When the flush under way began; a flush whose request was torn down mid-send never settles. */
  #sendingSince: number | null = null;
  readonly counts: OutboxCounts = { exported: 0, dropped: 0, failedExports: 0 };

  /** `onDrop` hears of each drop (to log it, rate-limited by the caller). */
  constructor(target: OtlpTarget, onDrop: (counts: OutboxCounts) => void = () => {}) {
    this.#target = target;
    this.#onDrop = onDrop;
  }

  get pending(): number {
    return this.#spans.length;
  }

  onStart(_span: Span, _parent: Context): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & 1) === 0) return; // not sampled
    this.add([span]);
  }

  /** Queues finished spans made outside the SDK (a run's spans that outlive an isolate). */
  add(spans: ReadableSpan[]): void {
    for (const span of spans) {
      if (this.#spans.length >= SPAN_OUTBOX_MAX) this.#drop(1);
      else this.#spans.push(span);
    }
  }

  /**
   * Sends what waits, in batches, until nothing does. Never rejects. A flush
   * that finds one under way leaves the spans to it, unless that one has
   * been sending for longer than any export may take.
   */
  async flush(): Promise<void> {
    const now = Date.now();
    if (this.#sendingSince !== null && now - this.#sendingSince < 2 * EXPORT_TIMEOUT_MS) return;
    const mine = now;
    this.#sendingSince = mine;
    try {
      while (this.#spans.length > 0 && this.#sendingSince === mine) {
        const batch = this.#spans.splice(0, EXPORT_BATCH_MAX);
        if (await this.#send(batch)) this.counts.exported += batch.length;
        else {
          this.counts.failedExports += 1;
          this.#drop(batch.length);
        }
      }
    } finally {
      if (this.#sendingSince === mine) this.#sendingSince = null;
    }
  }

  forceFlush(): Promise<void> {
    return this.flush();
  }

  async shutdown(): Promise<void> {
    await this.flush();
  }

  async #send(batch: ReadableSpan[]): Promise<boolean> {
    const json = this.#target.protocol === "http/json";
    const body = (json ? JsonTraceSerializer : ProtobufTraceSerializer).serializeRequest(batch);
    if (!body) return false;
    try {
      const response = await fetch(this.#target.url, {
        method: "POST",
        headers: { ...this.#target.headers, "Content-Type": json ? "application/json" : "application/x-protobuf" },
        body,
        signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
      });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  #drop(n: number): void {
    this.counts.dropped += n;
    this.#onDrop(this.counts);
  }
}
