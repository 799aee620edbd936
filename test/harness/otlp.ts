import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";

// The OTLP protobuf messages, as the OpenTelemetry JS project generated them from
// the official .proto files (an older @opentelemetry/otlp-transformer ships them).
const require = createRequire(import.meta.url);
const { opentelemetry } = require("otlp-proto-definitions/build/src/generated/root.js") as {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: {
              decode(bytes: Uint8Array): unknown;
              toObject(message: unknown, options: object): OtlpRequest;
            };
          };
        };
      };
    };
  };
};
const ExportTraceServiceRequest = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** The most a receiver keeps: a test that makes more has a bug. */
const MAX_SPANS = 200_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** One span as a test reads it, the same whichever encoding it came in. */
export interface ReceivedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string }[];
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  /** "json" or "protobuf": how it was sent. */
  encoding: "json" | "protobuf";
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValue[];
  events?: { name: string; attributes?: KeyValue[] }[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number; message?: string };
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

/**
 * A real OTLP/HTTP trace receiver on loopback, as a collector would be: it
 * takes `POST /v1/traces` in `application/json` (ids in hex, as the spec's
 * JSON encoding says) or `application/x-protobuf` (decoded with the official
 * message definitions), and keeps every span. `answer` sets the status it
 * replies with, to play a failing collector.
 */
export class OtlpReceiver {
  readonly #server: Server;
  readonly spans: ReceivedSpan[] = [];
  /** Each request's content type, in order of arrival. */
  readonly requests: string[] = [];
  answer = 200;
  #waiters = new Set<() => void>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => {
      receiver?.handle(req).then(
        (status) => res.writeHead(status, { "Content-Type": "application/json" }).end("{}"),
        (err: unknown) => res.writeHead(400).end(String(err)),
      );
    });
    receiver = new OtlpReceiver(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return receiver;
  }

  /** The base endpoint, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  get endpoint(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new Error("body too large");
      chunks.push(chunk as Buffer);
    }
    if (req.method !== "POST" || req.url !== "/v1/traces") return 404;
    const type = req.headers["content-type"] ?? "";
    this.requests.push(type);
    if (this.answer !== 200) return this.answer;
    const body = Buffer.concat(chunks);
    if (type.startsWith("application/json")) this.#add(JSON.parse(body.toString("utf8")) as OtlpRequest, "json");
    else if (type.startsWith("application/x-protobuf")) {
      const message = ExportTraceServiceRequest.decode(body);
      this.#add(ExportTraceServiceRequest.toObject(message, { longs: String, bytes: String }), "protobuf");
    } else return 415;
    return 200;
  }

  #add(request: OtlpRequest, encoding: "json" | "protobuf"): void {
    // protobufjs gives bytes as base64; the JSON encoding has them in hex.
    const id = (value: string | undefined) =>
      !value ? "" : encoding === "protobuf" ? Buffer.from(value, "base64").toString("hex") : value;
    for (const rs of request.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          if (this.spans.length >= MAX_SPANS) throw new Error("the receiver is full");
          this.spans.push({
            service: String(resource["service.name"] ?? ""),
            scope: ss.scope?.name ?? "",
            traceId: id(span.traceId),
            spanId: id(span.spanId),
            parentSpanId: id(span.parentSpanId),
            name: span.name,
            kind: span.kind ?? 0,
            startMs: Number(BigInt(span.startTimeUnixNano) / 1_000_000n),
            endMs: Number(BigInt(span.endTimeUnixNano) / 1_000_000n),
            attributes: attributes(span.attributes),
            events: (span.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
            links: (span.links ?? []).map((l) => ({ traceId: id(l.traceId), spanId: id(l.spanId) })),
            status: { code: span.status?.code ?? 0, message: span.status?.message ?? "" },
            encoding,
          });
        }
      }
    }
    for (const wake of this.#waiters) wake();
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /**
   * Resolves with the spans of `traceId` once `done` says they are all there
   * (checked on each arrival); rejects after `timeoutMs` with what it has.
   */
  async waitForTrace(
    traceId: string,
    done: (spans: ReceivedSpan[]) => boolean,
    timeoutMs = 20_000,
  ): Promise<ReceivedSpan[]> {
    const check = () => done(this.trace(traceId));
    if (check()) return this.trace(traceId);
    const { promise, resolve, reject } = Promise.withResolvers<ReceivedSpan[]>();
    const wake = () => {
      if (check()) resolve(this.trace(traceId));
    };
    const timer = setTimeout(() => {
      const names = this.trace(traceId).map((s) => `${s.service}:${s.name}`);
      reject(new Error(`trace ${traceId} incomplete after ${timeoutMs} ms; it has [${names.join(", ")}]`));
    }, timeoutMs);
    this.#waiters.add(wake);
    try {
      return await promise;
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(wake);
    }
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = anyValue(value);
  return out;
}

function anyValue(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  return undefined;
}
