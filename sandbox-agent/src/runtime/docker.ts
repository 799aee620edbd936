import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { DEFAULT_LIMITS, type ExecutionOutcome } from "@edgeswarm/shared";
import type Dockerode from "dockerode";
import {
  type ContainerShape,
  containerSpec,
  describeDockerError,
  executionContainerName,
  isGvisor,
  runnerRequest,
  shapeKey,
  shapeOf,
  WARM_NAME_PREFIX,
} from "./container-spec.ts";
import { type ExitInfo, FrameParser, type RunnerFrame } from "./frames.ts";
import { bareOutcome, outcomeFromExit, ReturnedFiles } from "./outcome.ts";
import { CappedDecoder } from "./output.ts";
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
  /** Most warm containers being created at once. Default 4. */
  warmParallelism?: number;
  /** Told when a warm container cannot be made (the pool retries with backoff). */
  onWarmError?: (image: string, message: string) => void;
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

// How long to wait for Docker to see a container as stopped after its stream ended.
const EXIT_WAIT_MS = 5_000;

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

  constructor(options: DockerRuntimeOptions) {
    this.#docker = options.docker;
    this.#opts = options;
    this.#pool = new WarmPool<Sandbox>({
      parallelism: options.warmParallelism ?? 4,
      create: (key) =>
        this.#open(
          this.#images.get(key) ?? "",
          this.#warmShape,
          `${WARM_NAME_PREFIX}${randomBytes(6).toString("hex")}`,
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

  async run(spec: RunSpec, sink: OutputSink, signal: AbortSignal, gate?: OutputGate): Promise<ExecutionOutcome> {
    const begun = performance.now();
    try {
      let outcome = await this.#run(spec, sink, signal, begun, true, gate);
      // A warm container that died unseen just before it was taken: the program never ran.
      if (outcome === WARM_CONTAINER_LOST) outcome = await this.#run(spec, sink, signal, begun, false, gate);
      if (outcome === WARM_CONTAINER_LOST) throw new Error("a cold container cannot be lost as warm");
      return outcome;
    } catch (err) {
      return bareOutcome("error", performance.now() - begun, `sandbox runtime failed: ${String(err)}`);
    }
  }

  async #run(
    spec: RunSpec,
    sink: OutputSink,
    signal: AbortSignal,
    begun: number,
    mayTakeWarm: boolean,
    gate: OutputGate | undefined,
  ): Promise<ExecutionOutcome | typeof WARM_CONTAINER_LOST> {
    if (signal.aborted) return { ...bareOutcome("cancelled", 0), signal: null }; // nothing ran
    const shape = shapeOf(spec.limits);
    const name = executionContainerName(spec.executionId);
    const { promise, resolve } = Promise.withResolvers<ExecutionOutcome | typeof WARM_CONTAINER_LOST>();
    // The pool makes this one's replacement once the result is in, so that making it
    // does not slow a short execution down; a long one does not hold it up for long.
    const refillAfter = Promise.race([promise, delay(REFILL_DEFER_MS)]);
    const warm = mayTakeWarm ? this.#pool.take(shapeKey(spec.image, shape), refillAfter) : undefined;
    let step = "create the container";
    const opening = warm ? Promise.resolve(warm) : this.#open(spec.image, shape, name, (s) => (step = s));
    let sandbox: Sandbox | undefined;
    let startedAt: number | null = null; // when the runner reported the user's program spawned
    let heard = false; // the runner sent any frame
    const elapsed = () => performance.now() - (startedAt ?? begun);
    let settled = false;
    const finish = (outcome: ExecutionOutcome | typeof WARM_CONTAINER_LOST) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const fail = (message: string) => finish(bareOutcome("error", elapsed(), message));
    let killedHere = false;
    const kill = () => {
      killedHere = true;
      sandbox?.kill();
    };

    const stdout = new CappedDecoder(spec.limits.outputBytes);
    const stderr = new CappedDecoder(spec.limits.outputBytes);
    const emit = (stream: "stdout" | "stderr", text: string) => {
      if (text === "" || settled) return;
      try {
        sink(stream, text);
      } catch {
        // A throwing sink must not break the execution; the caller sees its own error.
      }
    };
    const files = new ReturnedFiles(spec.limits);
    const parser = new FrameParser();
    let exit: ExitInfo | null = null;

    const onExit = async (info: ExitInfo) => {
      emit("stdout", stdout.end());
      emit("stderr", stderr.end());
      let oom = info.oomKilled;
      if (oom === null && info.signal !== "SIGKILL") oom = false; // the OOM killer only ever sends SIGKILL
      if (oom === null) {
        // The runner could not read the cgroup counter (gVisor has none); Docker knows once the container stops.
        await withTimeout(sandbox?.ended ?? Promise.resolve(), EXIT_WAIT_MS);
        oom = (await inspectState(sandbox))?.OOMKilled ?? false;
      }
      const truncated = {
        stdout: info.stdoutTruncated || stdout.truncated,
        stderr: info.stderrTruncated || stderr.truncated,
      };
      finish(outcomeFromExit(info, oom, truncated, files));
    };
    const onFrame = (frame: RunnerFrame) => {
      switch (frame.kind) {
        case "stdout":
          return emit("stdout", stdout.write(frame.data));
        case "stderr":
          return emit("stderr", stderr.write(frame.data));
        case "started":
          startedAt = performance.now();
          return;
        case "file":
          return files.add(frame.file);
        case "exit":
          exit = frame.exit;
          onExit(frame.exit).catch((err) => fail(`sandbox runtime failed: ${String(err)}`));
          return;
        case "error":
          return fail(`sandbox runner failed: ${frame.message}`);
      }
    };
    const onRunnerStdout = (chunk: Buffer) => {
      if (settled || exit) return;
      try {
        for (const frame of parser.push(chunk)) {
          if (!heard) {
            heard = true;
            // Named for its execution once its runner is known alive (a dead warm
            // one is replaced under this name), and after the request went.
            warm?.rename(name);
          }
          onFrame(frame);
          if (settled || exit) return;
        }
      } catch (err) {
        kill();
        fail(`sandbox runner broke its protocol: ${(err as Error).message}`);
      }
    };
    // The stream ended and no exit frame came: the runner died (OOM, or subverted) or never started.
    const onLost = async () => {
      if (settled || exit) return;
      if (warm && !heard) return finish(WARM_CONTAINER_LOST);
      const state = await inspectState(sandbox, true);
      if (settled || exit) return;
      if (state?.OOMKilled || sandboxOomKilled(state?.ExitCode)) return finish(bareOutcome("oom_killed", elapsed()));
      const said = sandbox?.diagnostics;
      fail(
        `sandbox runner ended without a result (container exit code ${state?.ExitCode ?? "unknown"})` +
          (said ? `: ${said}` : ""),
      );
    };

    // Under gVisor the user's memory is the sandbox kernel's, so at the memory
    // limit the host's OOM killer ends that kernel, and the whole container
    // exits 137 with no result. Docker's OOMKilled flag is set for it only now
    // and then (seen both ways). Of edgeswarm, only this runtime sends a
    // sandbox SIGKILL, and then killedHere is set; an operator's `docker kill`
    // would be taken for the OOM killer too.
    const sandboxOomKilled = (exitCode: number | undefined) =>
      isGvisor(this.#opts.runtime) && exitCode === 137 && !killedHere;

    const onAbort = () => {
      kill();
      finish(bareOutcome("cancelled", elapsed()));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const backstop = setTimeout(
      () => {
        kill();
        finish(bareOutcome("timed_out", elapsed()));
      },
      spec.limits.timeoutMs + (this.#opts.backstopMs ?? 15_000),
    );

    const drive = (async () => {
      sandbox = await opening;
      if (settled) return;
      sandbox.ended.then(() => onLost().catch((err) => fail(`sandbox runtime failed: ${String(err)}`)));
      if (gate) {
        const box = sandbox;
        gate.onHold = (held) => {
          if (!settled) box.hold(held);
        };
        if (gate.held) box.hold(true);
      }
      sandbox.bind(onRunnerStdout);
      sandbox.send(runnerRequest(spec, this.#opts.runtime));
    })();
    drive.catch((err) => fail(describeDockerError(err, step, spec.image)));

    const outcome = await promise;
    clearTimeout(backstop);
    signal.removeEventListener("abort", onAbort);
    // Off the result path: the caller does not wait for the container to go.
    this.#track(
      drive
        .catch(() => {})
        .then(async () => {
          if (sandbox) await this.#remove(sandbox);
        }),
    );
    return outcome;

    async function inspectState(box: Sandbox | undefined, waitForStop = false) {
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

  /** Starts a container of this shape whose runner waits for its request. */
  async #open(image: string, shape: ContainerShape, name: string, onStep?: (step: string) => void): Promise<Sandbox> {
    let id: string | undefined;
    this.#creating.add(name);
    try {
      return await Sandbox.open(this.#docker, containerSpec(image, shape, this.#opts, name), {
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

/** What #run answers when its warm container turns out dead before its runner said a word. */
const WARM_CONTAINER_LOST = Symbol("warm container lost");

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
