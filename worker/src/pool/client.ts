import { RpcTarget } from "cloudflare:workers";
import type { ExecutionSummary, WorkspaceFile } from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { type Answer, EdgeswarmError } from "../errors.ts";
import { recordExecution } from "../stats/record.ts";
import type { ExecuteInput, ExecutionSink, PoolEvent } from "./rpc.ts";
import type { SandboxProfile } from "./sandbox-profile.ts";

/** How an execution went, as its caller sees it. */
export type ExecutionReport =
  | { kind: "done"; summary: ExecutionSummary; stdout: string; stderr: string }
  /**
   * It did not run to a result: refused (no slot, a quota, the queue full, no
   * such language), or the pool failed. `started` says whether an agent had
   * begun it first.
   */
  | { kind: "refused"; error: EdgeswarmError; started: boolean };

/**
 * Takes an execution's events from the pool: gathers the output and the
 * returned files, and hands each event to `onEvent` (an SSE writer), whose
 * pace is the pool's pace. An `onEvent` that throws ends the execution.
 */
class Collector extends RpcTarget implements ExecutionSink {
  readonly #onEvent: ((event: PoolEvent) => void | Promise<void>) | undefined;
  readonly #files = new Map<string, { encoding: WorkspaceFile["encoding"]; parts: string[]; complete: boolean }>();
  stdout: string[] = [];
  stderr: string[] = [];
  started = false;

  constructor(onEvent: ((event: PoolEvent) => void | Promise<void>) | undefined) {
    super();
    this.#onEvent = onEvent;
  }

  async deliver(events: PoolEvent[]): Promise<void> {
    for (const event of events) {
      switch (event.type) {
        case "started":
          this.started = true;
          break;
        case "stdout":
          this.stdout.push(event.data);
          break;
        case "stderr":
          this.stderr.push(event.data);
          break;
        case "file": {
          let file = this.#files.get(event.path);
          if (!file || file.complete) {
            file = { encoding: event.encoding, parts: [], complete: false };
            this.#files.set(event.path, file);
          }
          file.parts.push(event.data);
          file.complete = !event.more;
          break;
        }
        case "file_dropped":
          this.#files.delete(event.path);
          break;
        case "queued":
          break;
      }
      if (this.#onEvent) await this.#onEvent(event);
    }
  }

  files(): WorkspaceFile[] {
    return [...this.#files.entries()]
      .filter(([, f]) => f.complete)
      .map(([path, f]) => ({ path, content: f.parts.join(""), encoding: f.encoding }));
  }
}

/**
 * Runs one execution in `pool`: the one way the Worker's routes and its runs
 * reach a PoolDO. Aborting `signal` cancels it (its sandbox is killed). Never
 * throws: a refusal or a failed pool is a `refused` report.
 */
export async function executeInPool(
  env: Env,
  pool: string,
  input: ExecuteInput,
  options: {
    onEvent?: (event: PoolEvent) => void | Promise<void>;
    signal?: AbortSignal;
    /** Keeps the cancel going after the request that asked for it ended (ExecutionContext.waitUntil). */
    waitUntil: (work: Promise<unknown>) => void;
  },
): Promise<ExecutionReport> {
  const stub = env.POOL.getByName(pool);
  const sink = new Collector(options.onEvent);
  // Once the caller hung up, this request's own calls no longer go out: the
  // cancel must outlive it (waitUntil), or it is lost.
  const cancel = () => options.waitUntil?.(stub.cancel(input.id).catch(() => {}));
  options.signal?.addEventListener("abort", cancel, { once: true });
  try {
    const answer: Answer<ExecutionSummary> = await stub.execute(input, sink);
    if (!answer.ok) return { kind: "refused", error: EdgeswarmError.fromInfo(answer.error), started: sink.started };
    recordExecution(env, input.tenant.id, answer.value, options.waitUntil);
    return {
      kind: "done",
      summary: { ...answer.value, files: sink.files() },
      stdout: sink.stdout.join(""),
      stderr: sink.stderr.join(""),
    };
  } catch (cause) {
    const error = new EdgeswarmError("pool_unavailable", "the sandbox pool is not reachable; retry", {
      retryAfterS: 1,
      cause,
    });
    return { kind: "refused", error, started: sink.started };
  } finally {
    options.signal?.removeEventListener("abort", cancel);
  }
}

/** The connected agents of one pool. */
export async function poolAgents(env: Env, pool: string) {
  try {
    return (await env.POOL.getByName(pool).agents()).agents;
  } catch (cause) {
    throw new EdgeswarmError("pool_unavailable", "the sandbox pool is not reachable; retry", { retryAfterS: 1, cause });
  }
}

/**
 * What the pool's sandboxes hold, per language, as every connected agent
 * serving it advertises: for prompts (roles/sandbox-brief.ts).
 */
export async function poolSandboxProfile(env: Env, pool: string): Promise<SandboxProfile> {
  try {
    return await env.POOL.getByName(pool).sandboxProfile();
  } catch (cause) {
    throw new EdgeswarmError("pool_unavailable", "the sandbox pool is not reachable; retry", { retryAfterS: 1, cause });
  }
}
