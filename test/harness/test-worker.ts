import { join } from "node:path";
import type { AgentSummary, ExecutionSummary } from "@edgeswarm/shared";
import { LineSplitter } from "../../scripts/lib/lines.ts";
import { ROOT } from "../../scripts/lib/paths.ts";
import { within } from "../../scripts/lib/wait.ts";
import type { Answer as PoolAnswer } from "../../worker/src/errors.ts";
import type { ExecuteInput, PoolEvent } from "../../worker/src/pool/rpc.ts";
import type { SandboxProfile } from "../../worker/src/pool/sandbox-profile.ts";
import { type Answer, SimulatedAgent } from "./simulated-agent.ts";
import { type WorkerConfig, WorkerProcess } from "./worker.ts";

/** One execution driven through a pool's RPC. */
export interface Execution {
  id: string;
  /** Resolves with the first event of `type`. */
  event(type: PoolEvent["type"], timeoutMs?: number): Promise<PoolEvent>;
  done: Promise<Driven>;
}

/** What the test Worker answers for one execution driven through a pool's RPC. */
export interface Driven {
  started: number;
  ended: number;
  events: { at: number; event: PoolEvent }[];
  answer: PoolAnswer<ExecutionSummary>;
}

/**
 * The test Worker (test/workerd/) in workerd, through wrangler dev: the real
 * Durable Objects and the real app, plus routes that drive a pool's RPC
 * directly. No Docker: agents are simulated, from the test.
 */
export class TestWorker {
  readonly process: WorkerProcess;

  private constructor(process: WorkerProcess) {
    this.process = process;
  }

  static async start(config: Omit<WorkerConfig, "wranglerConfig">): Promise<TestWorker> {
    const process = await WorkerProcess.start({ ...config, wranglerConfig: join(ROOT, "test/workerd/wrangler.toml") });
    return new TestWorker(process);
  }

  get url(): string {
    return this.process.url;
  }

  /**
   * Starts one execution through `pool`'s RPC; `sink: "never"` is a caller that
   * takes no event. `event` waits for one of its events; `done` for its end.
   */
  execute(pool: string, input: ExecuteInput, options: { sink?: "never" } = {}): Execution {
    const seen: { at: number; event: PoolEvent }[] = [];
    const waiters = new Set<() => void>();
    const done = (async (): Promise<Driven> => {
      const query = options.sink ? `?sink=${options.sink}` : "";
      const res = await fetch(`${this.url}/__test/pools/${pool}/execute${query}`, {
        method: "POST",
        body: JSON.stringify(input),
      });
      if (!res.ok || !res.body) throw new Error(`the test Worker answered ${res.status}: ${await res.text()}`);
      let last: Driven | undefined;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const lines = new LineSplitter();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        for (const part of lines.push(read.value)) {
          const value = JSON.parse(part) as { at: number; event: PoolEvent } | Driven;
          if ("answer" in value) last = value;
          else seen.push(value);
          for (const wake of waiters) wake();
        }
      }
      if (!last) throw new Error("the test Worker's stream ended without the answer");
      return last;
    })();
    done
      .catch(() => {})
      .finally(() => {
        for (const wake of waiters) wake();
      });
    return {
      id: input.id,
      done,
      event: (type, timeoutMs = 10_000) =>
        within(
          new Promise((resolve, reject) => {
            const wake = () => {
              const found = seen.find((e) => e.event.type === type);
              if (found) resolve(found.event);
            };
            waiters.add(wake);
            wake();
            done.then(() => {
              wake();
              reject(new Error(`execution ${input.id} ended without a ${type} event`));
            }, reject);
          }),
          timeoutMs,
          `a ${type} event of ${input.id}`,
        ),
    };
  }

  async cancel(pool: string, executionId: string): Promise<boolean> {
    const res = await fetch(`${this.url}/__test/pools/${pool}/cancel?id=${executionId}`, { method: "POST" });
    return ((await res.json()) as { cancelled: boolean }).cancelled;
  }

  /** The pool's agents as GET /v1/agents lists them, and its sandbox profile (PoolDO.sandboxProfile). */
  async sandboxes(pool: string): Promise<{ agents: AgentSummary[]; profile: SandboxProfile }> {
    const res = await fetch(`${this.url}/__test/pools/${pool}/sandboxes`, { method: "POST" });
    return (await res.json()) as { agents: AgentSummary[]; profile: SandboxProfile };
  }

  /** Resets a pool's object, as a deploy would: what it held fails. */
  async reset(pool: string): Promise<void> {
    await fetch(`${this.url}/__test/pools/${pool}/reset`, { method: "POST" });
  }

  /** A simulated agent in `pool`, connected with a token of id `tokenId`. */
  agent(
    pool: string,
    id: string,
    options: { capacity?: number; answer?: Answer; tokenId?: string; maxCapacity?: number; heartbeatMs?: number } = {},
  ): Promise<SimulatedAgent> {
    const query = new URLSearchParams({
      tokenId: options.tokenId ?? "token-1",
      maxCapacity: String(options.maxCapacity ?? 64),
    });
    return SimulatedAgent.connect({
      url: `${this.url.replace(/^http/, "ws")}/__test/pools/${pool}/connect?${query}`,
      token: "not-checked-by-the-test-route",
      id,
      ...options,
    });
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
