import type { ExecutionOutcome } from "@edgeswarm/shared";
import { type Context, type Span, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { RunObserver } from "../metrics.ts";
import {
  type ContainerShape,
  describeDockerError,
  executionContainerName,
  isGvisor,
  runnerRequest,
  shapeOf,
} from "./container-spec.ts";
import { type ExitInfo, FrameParser, type RunnerFrame } from "./frames.ts";
import { bareOutcome, outcomeFromExit, ReturnedFiles } from "./outcome.ts";
import { CappedDecoder } from "./output.ts";
import type { OutputGate, OutputSink, RunSpec } from "./runtime.ts";
import type { Sandbox } from "./sandbox.ts";

/** What a ContainerRun needs from the runtime that made it. */
export interface ContainerSource {
  /** Starts a cold container of this shape; `onStep` learns each step as it begins. */
  open(image: string, shape: ContainerShape, name: string, onStep: (step: string) => void): Promise<Sandbox>;
  /** The OCI runtime name, e.g. "runsc"; undefined for Docker's default. */
  readonly runtime: string | undefined;
  /** Added to timeoutMs for the backstop that kills a container whose runner never reports. */
  readonly backstopMs: number;
  readonly tracer: Tracer;
  /** Told how long acquiring the container and starting the program took. */
  readonly observer: RunObserver;
}

/** Where a run is: acquire → start → run → collect → done. Removal follows, off the result's path. */
export type RunPhase = "acquire" | "start" | "run" | "collect" | "done";

/** What a run of a warm container answers when that container was dead before its runner said a word. */
export const WARM_CONTAINER_LOST = Symbol("warm container lost");
export type RunResult = ExecutionOutcome | typeof WARM_CONTAINER_LOST;

// How long to wait for Docker to see a container as stopped after its stream ended.
const EXIT_WAIT_MS = 5_000;

/**
 * One execution in one container, in explicit phases:
 * - **acquire**: the warm container it was given, or a cold one opened now;
 * - **start**: the container watched for its end, the output gate bound;
 * - **run**: the request sent, then the runner's frames (output, files) until its exit frame;
 * - **collect**: the last output flushed, the OOM verdict, the outcome built;
 * - **done**: settled, by the outcome or by a cancel, the backstop or a failure.
 * The first settlement wins; `sandbox` is then the container to remove.
 */
export class ContainerRun {
  readonly #spec: RunSpec;
  readonly #sink: OutputSink;
  readonly #gate: OutputGate | undefined;
  readonly #source: ContainerSource;
  readonly #begun: number;
  readonly #name: string;
  readonly #settled = Promise.withResolvers<RunResult>();
  readonly #stdout: CappedDecoder;
  readonly #stderr: CappedDecoder;
  readonly #files: ReturnedFiles;
  readonly #parser = new FrameParser();
  #phase: RunPhase = "acquire";
  #warm: Sandbox | undefined;
  #sandbox: Sandbox | undefined;
  /** What acquire was doing, for the message if Docker fails it. */
  #step = "create the container";
  /** When the runner reported the user's program spawned. */
  #startedAt: number | null = null;
  /** The runner sent any frame: a warm container is known alive. */
  #heard = false;
  /** This run killed its container (so a 137 under gVisor is not the OOM killer). */
  #killedHere = false;
  #acquired: Promise<void> = Promise.resolve();
  readonly #parent: Context;
  /** The span of the phase under way: container.acquire, program.run or result.collect. */
  #span: Span | undefined;

  /** `begun` is when the execution began, for the elapsed time of outcomes that end before the program starts. */
  constructor(
    spec: RunSpec,
    sink: OutputSink,
    gate: OutputGate | undefined,
    source: ContainerSource,
    begun: number,
    parent: Context,
  ) {
    this.#parent = parent;
    this.#spec = spec;
    this.#sink = sink;
    this.#gate = gate;
    this.#source = source;
    this.#begun = begun;
    this.#name = executionContainerName(spec.executionId);
    this.#stdout = new CappedDecoder(spec.limits.outputBytes);
    this.#stderr = new CappedDecoder(spec.limits.outputBytes);
    this.#files = new ReturnedFiles(spec.limits);
  }

  get phase(): RunPhase {
    return this.#phase;
  }

  /** Resolves when the run has settled, whichever way. */
  get settled(): Promise<RunResult> {
    return this.#settled.promise;
  }

  /**
   * Runs the execution to its result in `warm`, or in a cold container when
   * none is given. Never rejects.
   */
  async execute(warm: Sandbox | undefined, signal: AbortSignal): Promise<RunResult> {
    this.#warm = warm;
    const onAbort = () => this.#kill(bareOutcome("cancelled", this.#elapsed()));
    signal.addEventListener("abort", onAbort, { once: true });
    const backstop = setTimeout(
      () => this.#kill(bareOutcome("timed_out", this.#elapsed())),
      this.#spec.limits.timeoutMs + this.#source.backstopMs,
    );
    this.#acquired = this.#acquire()
      .then((sandbox) => this.#start(sandbox))
      .catch((err: unknown) => this.#fail(describeDockerError(err, this.#step, this.#spec.image)));
    const result = await this.#settled.promise;
    clearTimeout(backstop);
    signal.removeEventListener("abort", onAbort);
    return result;
  }

  /** Resolves once acquisition has ended, with the container to remove (none if it never came). */
  async release(): Promise<Sandbox | undefined> {
    await this.#acquired.catch(() => {});
    return this.#sandbox;
  }

  // --- acquire --------------------------------------------------------------

  #acquire(): Promise<Sandbox> {
    this.#enter("container.acquire", { "edgeswarm.container.warm": this.#warm !== undefined });
    if (this.#warm) return Promise.resolve(this.#warm);
    return this.#source.open(this.#spec.image, shapeOf(this.#spec.limits), this.#name, (step) => {
      this.#step = step;
    });
  }

  // --- start ----------------------------------------------------------------

  #start(sandbox: Sandbox): void {
    this.#sandbox = sandbox;
    if (this.#phase === "done") return;
    this.#source.observer.acquired(this.#warm ? "warm" : "cold", (performance.now() - this.#begun) / 1000);
    this.#phase = "start";
    sandbox.ended.then(() => this.#lost().catch((err) => this.#fail(`sandbox runtime failed: ${String(err)}`)));
    const gate = this.#gate;
    if (gate) {
      gate.onHold = (held) => {
        if (this.#phase !== "done") sandbox.hold(held);
      };
      if (gate.held) sandbox.hold(true);
    }
    this.#phase = "run";
    this.#enter("program.run", {});
    sandbox.bind((chunk) => this.#onRunnerStdout(chunk));
    sandbox.send(runnerRequest(this.#spec, this.#source.runtime));
  }

  // --- run ------------------------------------------------------------------

  #onRunnerStdout(chunk: Buffer): void {
    if (this.#phase !== "run") return;
    try {
      for (const frame of this.#parser.push(chunk)) {
        if (!this.#heard) {
          this.#heard = true;
          // Named for its execution once its runner is known alive (a dead warm
          // one is replaced under this name), and after the request went.
          this.#warm?.rename(this.#name);
        }
        this.#onFrame(frame);
        if (this.#phase !== "run") return;
      }
    } catch (err) {
      this.#kill(bareOutcome("error", this.#elapsed(), `sandbox runner broke its protocol: ${(err as Error).message}`));
    }
  }

  #onFrame(frame: RunnerFrame): void {
    switch (frame.kind) {
      case "stdout":
        return this.#emit("stdout", this.#stdout.write(frame.data));
      case "stderr":
        return this.#emit("stderr", this.#stderr.write(frame.data));
      case "started":
        this.#startedAt = performance.now();
        this.#source.observer.started((this.#startedAt - this.#begun) / 1000);
        return;
      case "file":
        return this.#files.add(frame.file);
      case "exit":
        this.#phase = "collect";
        this.#span?.setAttribute("process.exit.code", frame.exit.exitCode ?? -1);
        this.#enter("result.collect", {});
        this.#collect(frame.exit).catch((err) => this.#fail(`sandbox runtime failed: ${String(err)}`));
        return;
      case "error":
        return this.#fail(`sandbox runner failed: ${frame.message}`);
    }
  }

  #emit(stream: "stdout" | "stderr", text: string): void {
    if (text === "" || this.#phase === "done") return;
    try {
      this.#sink(stream, text);
    } catch {
      // A throwing sink must not break the execution; the caller sees its own error.
    }
  }

  /** The stream ended and no exit frame came: the runner died (OOM, or subverted) or never started. */
  async #lost(): Promise<void> {
    if (this.#phase !== "run" && this.#phase !== "start") return;
    if (this.#warm && !this.#heard) return this.#settle(WARM_CONTAINER_LOST);
    const state = await this.#inspect(true);
    if (this.#phase !== "run") return;
    if (state?.OOMKilled || this.#sandboxOomKilled(state?.ExitCode)) {
      return this.#settle(bareOutcome("oom_killed", this.#elapsed()));
    }
    const said = this.#sandbox?.diagnostics;
    this.#fail(
      `sandbox runner ended without a result (container exit code ${state?.ExitCode ?? "unknown"})` +
        (said ? `: ${said}` : ""),
    );
  }

  /**
   * Under gVisor the user's memory is the sandbox kernel's, so at the memory
   * limit the host's OOM killer ends that kernel, and the whole container
   * exits 137 with no result. Docker's OOMKilled flag is set for it only now
   * and then (seen both ways). Of edgeswarm, only this runtime sends a
   * sandbox SIGKILL, and then killedHere is set; an operator's `docker kill`
   * would be taken for the OOM killer too.
   */
  #sandboxOomKilled(exitCode: number | undefined): boolean {
    return isGvisor(this.#source.runtime) && exitCode === 137 && !this.#killedHere;
  }

  // --- collect --------------------------------------------------------------

  async #collect(info: ExitInfo): Promise<void> {
    this.#emit("stdout", this.#stdout.end());
    this.#emit("stderr", this.#stderr.end());
    let oom = info.oomKilled;
    if (oom === null && info.signal !== "SIGKILL") oom = false; // the OOM killer only ever sends SIGKILL
    if (oom === null) {
      // The runner could not read the cgroup counter (gVisor has none); Docker knows once the container stops.
      await withTimeout(this.#sandbox?.ended ?? Promise.resolve(), EXIT_WAIT_MS);
      oom = (await this.#inspect())?.OOMKilled ?? false;
    }
    const truncated = {
      stdout: info.stdoutTruncated || this.#stdout.truncated,
      stderr: info.stderrTruncated || this.#stderr.truncated,
    };
    this.#settle(outcomeFromExit(info, oom, truncated, this.#files));
  }

  // --- done -----------------------------------------------------------------

  #settle(result: RunResult): void {
    if (this.#phase === "done") return;
    this.#phase = "done";
    const span = this.#span;
    if (span && result === WARM_CONTAINER_LOST) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: "the warm container was dead" });
    } else if (span && result !== WARM_CONTAINER_LOST && result.error) {
      span.setAttribute("error.type", result.error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.status });
    }
    span?.end();
    this.#span = undefined;
    this.#settled.resolve(result);
  }

  /** Ends the span of the phase before, and starts the next one's. */
  #enter(name: string, attributes: Record<string, boolean>): void {
    this.#span?.end();
    this.#span = this.#source.tracer.startSpan(name, { attributes }, this.#parent);
  }

  #fail(message: string): void {
    this.#settle(bareOutcome("error", this.#elapsed(), message));
  }

  /** Kills the container (once it is there) and settles with `outcome`. */
  #kill(outcome: ExecutionOutcome): void {
    if (this.#phase === "done") return;
    this.#killedHere = true;
    this.#sandbox?.kill();
    this.#settle(outcome);
  }

  #elapsed(): number {
    return performance.now() - (this.#startedAt ?? this.#begun);
  }

  async #inspect(waitForStop = false) {
    const box = this.#sandbox;
    if (!box) return undefined;
    try {
      if (waitForStop) {
        await box.container
          .wait({ condition: "not-running", abortSignal: AbortSignal.timeout(EXIT_WAIT_MS) })
          .catch(() => {});
      }
      return (await box.container.inspect()).State;
    } catch {
      return undefined;
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
