import { LineSplitter } from "../scripts/lib/lines.ts";
import { untilIdle } from "./cgroup-cpu.ts";
import { docker } from "./docker.ts";
import { AGENT_LABEL } from "./stack.ts";

// Watches one agent's containers through the Docker engine's event stream, so
// the bench can wait (untimed, without polling) until the agent's warm pool is
// full again and the container of the last execution is gone, and can tell
// whether an execution was served by a warm container or a cold one. Then it
// waits until those containers are idle (cgroup-cpu.ts): a new warm one goes
// on starting up for tens of ms after Docker says it runs.

/** Warm containers are named edgeswarm-warm-*; a cold start is created as edgeswarm-<execution id>. */
const WARM_PREFIX = "/edgeswarm-warm-";
const COLD_PREFIX = "edgeswarm-ex_";
/** A check also runs this often without events, as a safety net. */
const FALLBACK_MS = 500;

interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

export class PoolWatch {
  readonly #agentId: string;
  readonly #stream: NodeJS.ReadableStream & { destroy(): void };
  #wake: (() => void) | undefined;
  /** Names of containers created for one execution (cold starts), as the events gave them. */
  readonly coldStarts = new Set<string>();

  private constructor(agentId: string, stream: NodeJS.ReadableStream & { destroy(): void }) {
    this.#agentId = agentId;
    this.#stream = stream;
    const lines = new LineSplitter();
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      for (const line of lines.push(chunk)) if (line.trim()) this.#onEvent(JSON.parse(line) as DockerEvent);
    });
    stream.on("error", () => {}); // closing the watch destroys the stream
  }

  /** Subscribes to the events of the containers labelled as `agentId`'s. */
  static async start(agentId: string): Promise<PoolWatch> {
    const stream = (await docker.getEvents({
      filters: { type: ["container"], label: [`${AGENT_LABEL}=${agentId}`] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    return new PoolWatch(agentId, stream);
  }

  #onEvent(event: DockerEvent): void {
    const name = event.Actor?.Attributes?.name ?? "";
    if (event.Action === "create" && name.startsWith(COLD_PREFIX)) this.coldStarts.add(name);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Whether the execution's container was created for it (a cold start) rather than taken warm. */
  servedCold(executionId: string): boolean {
    return this.coldStarts.has(`edgeswarm-${executionId}`);
  }

  /**
   * Resolves once the agent has exactly `size` containers, all of them running
   * warm ones (so the pool is full and the last execution's container is
   * removed), and idle (done starting up). Checks on every event of the
   * agent's containers (one listing each, to be sure), and every
   * {@link FALLBACK_MS} as a safety net.
   */
  async untilFull(size: number, timeoutMs: number, signal: AbortSignal, quietMs?: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      signal.throwIfAborted();
      const woken = new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      const list = await docker.listContainers({
        all: true,
        filters: { label: [`${AGENT_LABEL}=${this.#agentId}`] },
      });
      const full =
        list.length === size &&
        list.every((c) => c.State === "running" && c.Names.some((n) => n.startsWith(WARM_PREFIX)));
      const left = deadline - performance.now();
      if (full) {
        const state = await untilIdle(
          list.map((c) => c.Id),
          Math.max(0, left),
          signal,
          quietMs,
        );
        if (state === "idle" || state === "unreadable") return;
        if (state === "busy") throw new Error(`the agent's warm containers were still busy after ${timeoutMs} ms`);
        continue; // one went: look again
      }
      if (left <= 0) {
        const seen = list.map((c) => `${c.Names.join(",")} ${c.State}`).join("; ");
        throw new Error(`the agent's warm pool was not full (${size}) after ${timeoutMs} ms: ${seen || "none"}`);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        woken,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.min(FALLBACK_MS, left));
        }),
      ]);
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#stream.destroy();
  }
}
