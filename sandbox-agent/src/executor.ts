import {
  type AgentFrame,
  type ExecStart,
  type ExecutionOutcome,
  errorOutcome,
  MAX_REPORT_CHARS,
  type WireOutcome,
  type WorkspaceFile,
} from "@edgeswarm/shared";
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { Logger } from "./log.ts";
import type { AgentMetrics } from "./metrics.ts";
import { Outbox } from "./outbox.ts";
import type { ImageMap, SandboxRuntime } from "./runtime/runtime.ts";
import { NO_TRACER, parentOf } from "./telemetry.ts";

/** Characters of a UTF-8 returned file per exec.file frame: even all escaped (6 each), under a frame's maximum. */
export const UTF8_PIECE_CHARS = 128 * 1024;
/** Characters of a base64 returned file per exec.file frame (a multiple of 4). */
export const BASE64_PIECE_CHARS = 512 * 1024;

/** How the executor reaches the Worker: one frame of text at a time. */
export type Transmit = (text: string) => void;

/**
 * Runs the executions leased to this agent, at most `capacity` at once. Each
 * one is acknowledged (exec.accepted) the moment it arrives; then its output,
 * its returned files (in pieces) and its outcome go back in seq order through
 * the execution's outbox, which keeps to the window the Worker grants.
 * Refuses, rather than queues, what it has no room for.
 */
export class Executor {
  /** Executions whose sandbox runs, by id. */
  readonly #running = new Map<string, AbortController>();
  /**
   * Executions whose frames are still going out, by id: a sandbox may be done
   * while its last frames wait for window, and the credit that lets them go
   * must still find its outbox.
   */
  readonly #outboxes = new Map<string, Outbox>();
  readonly #runtime: SandboxRuntime;
  readonly #images: ImageMap;
  #capacity: number;
  #draining = false;
  #idle: (() => void) | undefined;
  /** Called whenever inFlight changes, so the Worker's view of the load stays current. */
  onLoadChange: () => void = () => {};

  readonly #tracer: Tracer;
  readonly #metrics: AgentMetrics | undefined;
  readonly #log: Logger | undefined;
  /** The OCI runtime's name, for the metrics' labels. */
  readonly #runtimeName: string;

  constructor(options: {
    runtime: SandboxRuntime;
    images: ImageMap;
    capacity: number;
    tracer?: Tracer;
    metrics?: AgentMetrics;
    runtimeName?: string;
    log?: Logger;
  }) {
    this.#log = options.log;
    this.#runtime = options.runtime;
    this.#images = options.images;
    this.#capacity = options.capacity;
    this.#tracer = options.tracer ?? NO_TRACER;
    this.#metrics = options.metrics;
    this.#runtimeName = options.runtimeName ?? "runc";
  }

  get capacity(): number {
    return this.#capacity;
  }

  get inFlight(): number {
    return this.#running.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** The capacity the Worker holds this agent to, which may be lower than its own. */
  set capacity(capacity: number) {
    this.#capacity = capacity;
  }

  start(frame: ExecStart, transmit: Transmit): void {
    const id = frame.executionId;
    if (this.#outboxes.has(id)) return; // a duplicate start; the first one reports
    transmit(JSON.stringify({ type: "exec.accepted", executionId: id } satisfies AgentFrame));
    // From the lease's arrival until its last frame went: a child of the Worker's lease span.
    const span = this.#tracer.startSpan(
      "execute",
      {
        kind: SpanKind.CONSUMER,
        attributes: { "edgeswarm.execution.id": id, "edgeswarm.language": frame.language },
      },
      parentOf(frame.trace),
    );
    const outbox = new Outbox(frame.window, transmit);
    this.#outboxes.set(id, outbox);
    void outbox.done.then(() => {
      this.#outboxes.delete(id);
      span.end();
      this.#checkIdle();
    });
    let seq = 0;
    const finished = (outcome: WireOutcome): AgentFrame => ({
      type: "exec.finished",
      executionId: id,
      seq: seq++,
      outcome,
    });
    const image = this.#images[frame.language];
    const refuse = (code: "agent_busy" | "language_unavailable", message: string) => {
      describe(span, errorOutcome(code, message));
      outbox.send(finished(wireOutcome(errorOutcome(code, message))));
      outbox.end();
    };
    if (!image) return refuse("language_unavailable", `this agent has no image for ${frame.language}`);
    if (this.#draining) return refuse("agent_busy", "the agent is draining");
    if (this.#running.size >= this.#capacity) return refuse("agent_busy", "the agent is at capacity");

    const abort = new AbortController();
    const begun = performance.now();
    this.#running.set(id, abort);
    // Our own frames are made to fit; should one not, it is replaced by an
    // exec.finished with its seq that fails this execution alone.
    outbox.onOversize = (over, chars) => {
      this.#metrics?.rejectedFrames.inc({ reason: "oversize" });
      abort.abort();
      const message = `the agent could not report: a ${over.type} frame of ${chars} characters is over the protocol's maximum`;
      const at = "seq" in over ? over.seq : seq++;
      return {
        type: "exec.finished",
        executionId: id,
        seq: at,
        outcome: wireOutcome(errorOutcome("sandbox_error", message)),
      };
    };
    const { type: _type, window: _window, ...spec } = frame;
    void this.#runtime
      .run(
        { ...spec, image },
        (stream, data) => outbox.send({ type: "exec.output", executionId: id, seq: seq++, stream, data }),
        abort.signal,
        outbox,
        trace.setSpan(ROOT_CONTEXT, span),
      )
      .then((outcome) => {
        describe(span, outcome);
        const labels = { language: frame.language, runtime: this.#runtimeName };
        this.#metrics?.executions.inc({ ...labels, status: outcome.status });
        const seconds = (performance.now() - begun) / 1000;
        this.#metrics?.executionSeconds.observe(labels, seconds);
        this.#log?.info(`execution ${outcome.status} in ${Math.round(seconds * 1000)} ms`, {
          executionId: id,
          traceId: span.spanContext().traceId,
          ...(outcome.error ? { error: outcome.error.code } : {}),
        });
        outbox.pipe(endFrames(id, outcome, () => seq++));
        outbox.end();
      })
      .finally(() => {
        this.#running.delete(id);
        this.onLoadChange();
        this.#checkIdle();
      });
  }

  /** More window for an execution (exec.credit), running or still sending its last frames. */
  credit(executionId: string, chars: number): void {
    this.#outboxes.get(executionId)?.credit(chars);
  }

  /**
   * The Worker has given the execution up: its sandbox is killed, and what
   * waits to be sent is dropped (no credit for it will come).
   */
  cancel(executionId: string): void {
    this.#outboxes.get(executionId)?.close();
    this.#running.get(executionId)?.abort();
  }

  /** Cancels everything running (its caller is gone: the connection dropped). */
  cancelAll(): void {
    for (const outbox of this.#outboxes.values()) outbox.close();
    for (const abort of this.#running.values()) abort.abort();
  }

  /** Takes nothing new; resolves when what runs has finished and its results have gone. */
  drain(): Promise<void> {
    this.#draining = true;
    if (this.#running.size === 0 && this.#outboxes.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle = resolve;
    });
  }

  #checkIdle(): void {
    if (this.#running.size === 0 && this.#outboxes.size === 0) this.#idle?.();
  }
}

/** Puts how the execution ended on its span. */
function describe(span: Span, outcome: ExecutionOutcome): void {
  span.setAttribute("edgeswarm.execution.status", outcome.status);
  if (outcome.exitCode !== null) span.setAttribute("process.exit.code", outcome.exitCode);
  if (outcome.error) {
    span.setAttribute("error.type", outcome.error.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.code });
  }
}

/** The outcome without its files, its texts cut to what the protocol carries. */
function wireOutcome(outcome: ExecutionOutcome): WireOutcome {
  const { files: _files, ...rest } = outcome;
  if (!rest.error || rest.error.message.length <= MAX_REPORT_CHARS) return rest;
  return { ...rest, error: { ...rest.error, message: `${rest.error.message.slice(0, MAX_REPORT_CHARS - 1)}…` } };
}

/** An execution's last frames: each returned file in pieces, then exec.finished, numbered as they are made. */
function* endFrames(executionId: string, outcome: ExecutionOutcome, nextSeq: () => number): Generator<AgentFrame> {
  for (const file of outcome.files) {
    for (const piece of pieces(file)) {
      yield { type: "exec.file", executionId, seq: nextSeq(), path: file.path, encoding: file.encoding, ...piece };
    }
  }
  yield { type: "exec.finished", executionId, seq: nextSeq(), outcome: wireOutcome(outcome) };
}

/** A file's content in pieces a frame can carry, never splitting a UTF-16 surrogate pair. */
function* pieces(file: WorkspaceFile): Generator<{ data: string; more: boolean }> {
  const size = file.encoding === "base64" ? BASE64_PIECE_CHARS : UTF8_PIECE_CHARS;
  const content = file.content;
  let start = 0;
  do {
    let end = Math.min(content.length, start + size);
    const last = content.charCodeAt(end - 1);
    if (end < content.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    yield { data: content.slice(start, end), more: end < content.length };
    start = end;
  } while (start < content.length);
}
