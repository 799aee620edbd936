import { readFile } from "node:fs/promises";
import { type Duplex, Writable } from "node:stream";
import type { ExecutionOutcome } from "@edgeswarm/shared";
import type Dockerode from "dockerode";
import { containerSpec, describeDockerError, runnerRequest } from "./container-spec.ts";
import { type ExitInfo, FrameParser, type RunnerFrame } from "./frames.ts";
import { bareOutcome, outcomeFromExit, ReturnedFiles } from "./outcome.ts";
import { CappedDecoder } from "./output.ts";
import { LABELS, type OutputSink, type RunSpec, type SandboxRuntime } from "./runtime.ts";

/** Options for {@link DockerRuntime}. */
export interface DockerRuntimeOptions {
  docker: Dockerode;
  /** Labels every container, so reap() finds this agent's leftovers. */
  agentId: string;
  /** runner.py's source (see loadRunnerSource); it runs as PID 1 in each container. */
  runnerSource: string;
  /** OCI runtime name such as "runsc"; Docker's default when absent. */
  runtime?: string;
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

const DIAGNOSTIC_BYTES = 4096;
// How long to wait for Docker to see a container as stopped after its stream ended.
const EXIT_WAIT_MS = 5_000;

/** Runs each execution in a fresh locked-down Docker container (see container-spec.ts). */
export class DockerRuntime implements SandboxRuntime {
  readonly #docker: Dockerode;
  readonly #opts: DockerRuntimeOptions;
  readonly #removals = new Set<Promise<void>>();

  constructor(options: DockerRuntimeOptions) {
    this.#docker = options.docker;
    this.#opts = options;
  }

  async run(spec: RunSpec, sink: OutputSink, signal: AbortSignal): Promise<ExecutionOutcome> {
    const begun = performance.now();
    try {
      return await this.#run(spec, sink, signal, begun);
    } catch (err) {
      return bareOutcome("error", performance.now() - begun, `sandbox runtime failed: ${String(err)}`);
    }
  }

  async #run(spec: RunSpec, sink: OutputSink, signal: AbortSignal, begun: number): Promise<ExecutionOutcome> {
    if (signal.aborted) return { ...bareOutcome("cancelled", 0), signal: null }; // nothing ran
    const docker = this.#docker;
    let container: Dockerode.Container | undefined;
    let stream: Duplex | undefined;
    let startedAt: number | null = null; // when the runner reported the user's program spawned
    const elapsed = () => performance.now() - (startedAt ?? begun);
    const { promise, resolve } = Promise.withResolvers<ExecutionOutcome>();
    let settled = false;
    const finish = (outcome: ExecutionOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const fail = (message: string) => finish(bareOutcome("error", elapsed(), message));
    const kill = () => {
      container?.kill().catch(() => {}); // already stopped is fine: removal follows anyway
    };

    const stdout = new CappedDecoder(spec.limits.outputBytes);
    const stderr = new CappedDecoder(spec.limits.outputBytes);
    const emit = (name: "stdout" | "stderr", text: string) => {
      if (text === "" || settled) return;
      try {
        sink(name, text);
      } catch {
        // A throwing sink must not break the execution; the caller sees its own error.
      }
    };
    const files = new ReturnedFiles();
    const parser = new FrameParser();
    let exit: ExitInfo | null = null;
    let diagnostics = Buffer.alloc(0);
    let streamEnded: Promise<void> = Promise.resolve();

    const onExit = async (info: ExitInfo) => {
      emit("stdout", stdout.end());
      emit("stderr", stderr.end());
      let oom = info.oomKilled;
      if (oom === null) {
        // The runner could not read the cgroup counter; Docker knows once the container stops.
        await withTimeout(streamEnded, EXIT_WAIT_MS);
        oom = (await inspectState(container))?.OOMKilled ?? false;
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
      const state = await inspectState(container, true);
      if (settled || exit) return;
      if (state?.OOMKilled) return finish(bareOutcome("oom_killed", elapsed()));
      const said = diagnostics.toString("utf8").trim();
      fail(
        `sandbox runner ended without a result (container exit code ${state?.ExitCode ?? "unknown"})` +
          (said ? `: ${said}` : ""),
      );
    };

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

    let step = "create the container";
    const drive = (async () => {
      container = await docker.createContainer(containerSpec(spec, this.#opts));
      if (settled) return;
      step = "attach to the container";
      // Attach before start, or the first frames could be lost.
      const attached = await container.attach({ stream: true, hijack: true, stdin: true, stdout: true, stderr: true });
      stream = attached as unknown as Duplex; // a hijacked socket
      streamEnded = new Promise<void>((done) => {
        attached.once("end", done);
        attached.once("close", done);
        attached.once("error", done);
      });
      streamEnded.then(() => onLost().catch((err) => fail(`sandbox runtime failed: ${String(err)}`)));
      docker.modem.demuxStream(
        attached,
        sinkStream(onRunnerStdout),
        sinkStream((chunk) => {
          diagnostics = Buffer.concat([diagnostics, chunk]).subarray(-DIAGNOSTIC_BYTES);
        }),
      );
      if (settled) return;
      step = "start the container";
      await container.start();
      attached.write(runnerRequest(spec));
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
          stream?.destroy();
          if (container) await removeContainer(container);
        }),
    );
    return outcome;

    async function inspectState(c: Dockerode.Container | undefined, waitForStop = false) {
      if (!c) return undefined;
      try {
        if (waitForStop) {
          await c.wait({ condition: "not-running", abortSignal: AbortSignal.timeout(EXIT_WAIT_MS) }).catch(() => {});
        }
        return (await c.inspect()).State;
      } catch {
        return undefined;
      }
    }
  }

  /**
   * Removes every container labelled with this agent id, running or not, except
   * those of the executions in `except`; returns how many went.
   */
  async reap(except: ReadonlySet<string> = new Set()): Promise<number> {
    const list = await this.#docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.agent}=${this.#opts.agentId}`] },
    });
    const stale = list.filter((c) => !except.has(c.Labels?.[LABELS.execution] ?? ""));
    const results = await Promise.all(stale.map((c) => removeContainer(this.#docker.getContainer(c.Id))));
    return results.filter(Boolean).length;
  }

  /** Waits until every removal started so far (and any started meanwhile) has finished. */
  async close(): Promise<void> {
    while (this.#removals.size > 0) await Promise.allSettled([...this.#removals]);
  }

  #track(removal: Promise<void>): void {
    this.#removals.add(removal);
    removal.finally(() => this.#removals.delete(removal));
  }
}

/** Force-removes a container; true if this call removed it. */
async function removeContainer(container: Dockerode.Container): Promise<boolean> {
  try {
    await container.remove({ force: true, v: true });
    return true;
  } catch {
    return false; // gone already, or removal in progress elsewhere
  }
}

function sinkStream(onChunk: (chunk: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      onChunk(chunk);
      done();
    },
  });
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
