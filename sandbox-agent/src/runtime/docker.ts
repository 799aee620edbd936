import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { DEFAULT_LIMITS, type ExecutionOutcome } from "@edgeswarm/shared";
import { type Context, ROOT_CONTEXT, type Tracer, trace } from "@opentelemetry/api";
import type Dockerode from "dockerode";
import { NO_OBSERVER, type RunObserver } from "../metrics.ts";
import { NO_TRACER } from "../telemetry.ts";
import { ContainerRun, type ContainerSource, type RunResult, WARM_CONTAINER_LOST } from "./container-run.ts";
import {
  type ContainerShape,
  containerSpec,
  describeDockerError,
  shapeKey,
  shapeOf,
  WARM_NAME_PREFIX,
} from "./container-spec.ts";
import { bareOutcome } from "./outcome.ts";
import { LABELS, type OutputGate, type OutputSink, type RunSpec, type SandboxRuntime } from "./runtime.ts";
import { removeContainer, Sandbox } from "./sandbox.ts";
import { WarmPool } from "./warm-pool.ts";

/** Options for {@link DockerRuntime}. */
export interface DockerRuntimeOptions {
  docker: Dockerode;
  /** Labels every container, so reap() finds this agent's leftovers. */
  agentId: string;
  /** runner.py's source (see loadRunnerSource); it runs as PID 1 in each container. */
  runnerSource: string;
  /** OCI runtime name such as "runsc"; Docker's default when absent. */
  runtime?: string | undefined;
  /**
   * Warm containers to keep ready per image, made for the default limits. A
   * request with other container limits (memory, CPUs, pids, tmpfs sizes)
   * starts a container of its own.
   */
  warm?: Readonly<Record<string, number>>;
  /**
   * Modules the waiting interpreter of a warm container imports, per image. A
   * cold container skips them: its program is already there to be run.
   */
  preload?: Readonly<Record<string, readonly string[]>>;
  /** Most warm containers being created at once. Default 4. */
  warmParallelism?: number;
  /** Told when a warm container cannot be made (the pool retries with backoff). */
  onWarmError?: (image: string, message: string) => void;
  /** Makes the spans of each execution's phases; none are recorded without one. */
  tracer?: Tracer;
  /** Told of each execution's acquisition and start (metrics.ts). */
  observer?: RunObserver;
  /**
   * Added to timeoutMs for the wall-clock backstop that kills a container whose
   * runner never reports (start-up allowance plus grace). Default 15 s.
   */
  backstopMs?: number;
}

/** Reads runner.py from beside this file. */
export function loadRunnerSource(): Promise<string> {
  return readFile(new URL("./runner.py", import.meta.url), "utf8");
}

/**
 * Runs each execution in a fresh locked-down Docker container (see
 * container-spec.ts): a warm one when the pool has one of the right shape,
 * else one started on demand. Each container serves one execution and is then
 * removed, off the result's path.
 */
export class DockerRuntime implements SandboxRuntime {
  readonly #docker: Dockerode;
  readonly #opts: DockerRuntimeOptions;
  readonly #removals = new Set<Promise<unknown>>();
  /** Containers this runtime holds (warm, opening or running), by id: reap() spares them. */
  readonly #held = new Set<string>();
  /** Names of containers being created, whose ids are not known yet: reap() spares them too. */
  readonly #creating = new Set<string>();
  readonly #pool: WarmPool<Sandbox>;
  readonly #warmShape: ContainerShape = shapeOf(DEFAULT_LIMITS);
  readonly #images = new Map<string, string>(); // shape key -> image
  readonly #source: ContainerSource;

  constructor(options: DockerRuntimeOptions) {
    this.#docker = options.docker;
    this.#opts = options;
    this.#source = {
      open: (image, shape, name, onStep) => this.#open(image, shape, name, onStep),
      runtime: options.runtime,
      backstopMs: options.backstopMs ?? 15_000,
      tracer: options.tracer ?? NO_TRACER,
      observer: options.observer ?? NO_OBSERVER,
    };
    this.#pool = new WarmPool<Sandbox>({
      parallelism: options.warmParallelism ?? 4,
      create: (key) =>
        this.#open(
          this.#images.get(key) ?? "",
          this.#warmShape,
          `${WARM_NAME_PREFIX}${randomBytes(6).toString("hex")}`,
          undefined,
          options.preload?.[this.#images.get(key) ?? ""],
        ),
      destroy: (sandbox) => this.#remove(sandbox),
      onError: (key, err) =>
        options.onWarmError?.(
          this.#images.get(key) ?? key,
          describeDockerError(err, "make a warm container", this.#images.get(key) ?? key),
        ),
    });
    for (const [image, size] of Object.entries(options.warm ?? {})) {
      const key = shapeKey(image, this.#warmShape);
      this.#images.set(key, image);
      this.#pool.setSize(key, size);
    }
  }

  get warm(): number {
    return this.#pool.ready;
  }

  async run(
    spec: RunSpec,
    sink: OutputSink,
    signal: AbortSignal,
    gate?: OutputGate,
    parent: Context = ROOT_CONTEXT,
  ): Promise<ExecutionOutcome> {
    const begun = performance.now();
    if (signal.aborted) return { ...bareOutcome("cancelled", 0), signal: null }; // nothing ran
    const io = { sink, signal, gate, parent };
    try {
      let outcome = await this.#runOnce(spec, io, begun, true);
      // A warm container that died unseen just before it was taken: the program never ran.
      if (outcome === WARM_CONTAINER_LOST) outcome = await this.#runOnce(spec, io, begun, false);
      if (outcome === WARM_CONTAINER_LOST) throw new Error("a cold container cannot be lost as warm");
      return outcome;
    } catch (err) {
      return bareOutcome("error", performance.now() - begun, `sandbox runtime failed: ${String(err)}`);
    }
  }

  async #runOnce(
    spec: RunSpec,
    io: { sink: OutputSink; signal: AbortSignal; gate: OutputGate | undefined; parent: Context },
    begun: number,
    mayTakeWarm: boolean,
  ): Promise<RunResult> {
    const run = new ContainerRun(spec, io.sink, io.gate, this.#source, begun, io.parent);
    // The pool makes this one's replacement once the result is in, so that making it
    // does not slow a short execution down; a long one does not hold it up for long.
    const refillAfter = Promise.race([run.settled, delay(REFILL_DEFER_MS)]);
    const key = shapeKey(spec.image, shapeOf(spec.limits));
    const warm = mayTakeWarm ? this.#pool.take(key, refillAfter) : undefined;
    const outcome = await run.execute(warm, io.signal);
    // Off the result path: the caller does not wait for the container to go. Its span
    // follows the execution's (a link), and usually ends after it.
    this.#track(
      run.release().then(async (sandbox) => {
        if (!sandbox) return;
        const executed = trace.getSpanContext(io.parent);
        const span = this.#source.tracer.startSpan(
          "container.remove",
          { links: executed ? [{ context: executed }] : [] },
          io.parent,
        );
        await this.#remove(sandbox);
        span.end();
      }),
    );
    return outcome;
  }

  /**
   * Runs one program in a cold container, outside the warm pool, the metrics
   * and the traces: the agent's own look into an image (image-probe.ts).
   */
  async runAside(spec: RunSpec, sink: OutputSink, signal: AbortSignal): Promise<ExecutionOutcome> {
    const source = { ...this.#source, tracer: NO_TRACER, observer: NO_OBSERVER };
    const run = new ContainerRun(spec, sink, undefined, source, performance.now(), ROOT_CONTEXT);
    const outcome = await run.execute(undefined, signal);
    this.#track(run.release().then((sandbox) => sandbox && this.#remove(sandbox)));
    if (outcome === WARM_CONTAINER_LOST) throw new Error("a cold container cannot be lost as warm");
    return outcome;
  }

  /** Starts a container of this shape whose runner waits for its request. */
  async #open(
    image: string,
    shape: ContainerShape,
    name: string,
    onStep?: (step: string) => void,
    preload?: readonly string[],
  ): Promise<Sandbox> {
    let id: string | undefined;
    this.#creating.add(name);
    try {
      return await Sandbox.open(this.#docker, containerSpec(image, shape, { ...this.#opts, preload }, name), {
        ...(onStep ? { onStep } : {}),
        onCreated: (created) => {
          id = created;
          this.#held.add(created);
        },
      });
    } catch (err) {
      if (id) this.#held.delete(id); // Sandbox.open removed it
      throw err;
    } finally {
      this.#creating.delete(name);
    }
  }

  async #remove(sandbox: Sandbox): Promise<void> {
    await sandbox.remove();
    this.#held.delete(sandbox.container.id);
  }

  /**
   * Removes every container labelled with this agent id that this runtime does
   * not hold (warm, opening or running); returns how many went.
   */
  async reap(): Promise<number> {
    const list = await this.#docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.agent}=${this.#opts.agentId}`] },
    });
    const stale = list.filter(
      (c) => !this.#held.has(c.Id) && !c.Names?.some((n) => this.#creating.has(n.replace(/^\//, ""))),
    );
    const results = await Promise.all(stale.map((c) => removeContainer(this.#docker.getContainer(c.Id))));
    return results.filter(Boolean).length;
  }

  /** Destroys the warm containers, then waits until every removal started so far has finished. */
  async close(): Promise<void> {
    await this.#pool.close();
    while (this.#removals.size > 0) await Promise.allSettled([...this.#removals]);
  }

  #track(removal: Promise<unknown>): void {
    this.#removals.add(removal);
    removal.finally(() => this.#removals.delete(removal));
  }
}

/** The longest a warm container's replacement waits for the execution it serves to end. */
const REFILL_DEFER_MS = 100;
