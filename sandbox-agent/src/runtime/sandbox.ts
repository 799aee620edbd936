import { type Duplex, Writable } from "node:stream";
import type Dockerode from "dockerode";

const DIAGNOSTIC_BYTES = 4096;

/**
 * One started container whose runner (PID 1) waits on stdin for its single
 * request. Created, attached and started ahead of time for the warm pool, or
 * on demand for a cold start. Used once: after its execution it is removed.
 */
export class Sandbox {
  readonly container: Dockerode.Container;
  /** Resolves when the attach stream ends: the runner exited, or the container went. */
  readonly ended: Promise<void>;
  readonly #stream: Duplex;
  #onStdout: ((chunk: Buffer) => void) | undefined;
  #early: Buffer[] = []; // what the runner printed before an execution was bound
  #diagnostics = Buffer.alloc(0);
  #renamed: Promise<void> = Promise.resolve();

  private constructor(container: Dockerode.Container, stream: Duplex, docker: Dockerode) {
    this.container = container;
    this.#stream = stream;
    this.ended = new Promise<void>((done) => {
      stream.once("end", done);
      stream.once("close", done);
      stream.once("error", done);
    });
    docker.modem.demuxStream(
      stream,
      sink((chunk) => {
        if (this.#onStdout) this.#onStdout(chunk);
        else this.#early.push(chunk);
      }),
      sink((chunk) => {
        this.#diagnostics = Buffer.concat([this.#diagnostics, chunk]).subarray(-DIAGNOSTIC_BYTES);
      }),
    );
  }

  /**
   * Creates, attaches and starts a container. `hooks.onStep` learns each step
   * as it begins, for error messages; `hooks.onCreated` the container's id as
   * soon as it exists. A failure after creation removes the container.
   */
  static async open(
    docker: Dockerode,
    options: Dockerode.ContainerCreateOptions,
    hooks: OpenHooks = {},
  ): Promise<Sandbox> {
    const onStep = hooks.onStep ?? (() => {});
    onStep("create the container");
    // Given as query and body apart: otherwise docker-modem also spells the
    // whole body (the runner's source included) into the URL's query string.
    const { name, ...body } = options as Dockerode.ContainerCreateOptions & { name?: string };
    const container = await docker.createContainer({
      _query: name ? { name } : {},
      _body: body,
    } as unknown as Dockerode.ContainerCreateOptions);
    hooks.onCreated?.(container.id);
    try {
      onStep("attach to the container");
      // Attach before start, or the first frames could be lost.
      const stream = await container.attach({ stream: true, hijack: true, stdin: true, stdout: true, stderr: true });
      const sandbox = new Sandbox(container, stream as unknown as Duplex, docker);
      onStep("start the container");
      await container.start();
      return sandbox;
    } catch (err) {
      await removeContainer(container);
      throw err;
    }
  }

  /** Delivers the runner's stdout to `onStdout`, starting with anything it already printed. */
  bind(onStdout: (chunk: Buffer) => void): void {
    this.#onStdout = onStdout;
    for (const chunk of this.#early.splice(0)) onStdout(chunk);
  }

  /** Writes the runner's request (see runnerRequest). */
  send(request: Buffer): void {
    this.#stream.write(request);
  }

  /** The tail of what the runner wrote to stderr: why it failed, if it did. */
  get diagnostics(): string {
    return this.#diagnostics.toString("utf8").trim();
  }

  /** Names the container for its execution; best effort, never on the result's path. */
  rename(name: string): void {
    this.#renamed = this.container.rename({ name }).then(
      () => {},
      () => {}, // gone already, or a name clash with a leftover: the label still marks it ours
    );
  }

  /** Stops reading the container's output (the program then waits on its writes), or goes on again. */
  hold(held: boolean): void {
    if (held) this.#stream.pause();
    else this.#stream.resume();
  }

  kill(): void {
    this.container.kill().catch(() => {}); // already stopped is fine: removal follows anyway
  }

  /** Closes the stream and removes the container (after any rename, so events stay in order). */
  async remove(): Promise<boolean> {
    this.#stream.destroy();
    await this.#renamed;
    return removeContainer(this.container);
  }
}

export interface OpenHooks {
  onStep?: (step: string) => void;
  onCreated?: (id: string) => void;
}

/** Force-removes a container; true if this call removed it. */
export async function removeContainer(container: Dockerode.Container): Promise<boolean> {
  try {
    await container.remove({ force: true, v: true });
    return true;
  } catch {
    return false; // gone already, or removal in progress elsewhere
  }
}

function sink(onChunk: (chunk: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      onChunk(chunk);
      done();
    },
  });
}
