import { RpcTarget } from "cloudflare:workers";
import { newExecutionId } from "@edgeswarm/shared";
import type { Env } from "../../worker/src/env.ts";
import app from "../../worker/src/index.ts";
import { CONNECT_HEADERS, PoolDO as RealPoolDO } from "../../worker/src/pool/pool-do.ts";
import type { ExecuteInput, ExecutionSink, PoolEvent } from "../../worker/src/pool/rpc.ts";

export { RunDO, RunIndexDO, StatsDO } from "../../worker/src/index.ts";

/** The real PoolDO, and one thing more for tests: being reset, as a deploy would. */
export class PoolDO extends RealPoolDO {
  resetForTest(): void {
    this.ctx.abort("reset by a test");
  }

  /** An RPC that does nothing: the bench's baseline for a call to this object. */
  noop(): null {
    return null;
  }
}

/**
 * A caller's sink that records each event and when it came, and passes it to
 * `onEvent`; "never" takes none (a caller that stops reading).
 */
class RecordingSink extends RpcTarget implements ExecutionSink {
  readonly events: { at: number; event: PoolEvent }[] = [];
  readonly #never: boolean;
  readonly #onEvent: (line: string) => Promise<void>;

  constructor(never: boolean, onEvent: (line: string) => Promise<void>) {
    super();
    this.#never = never;
    this.#onEvent = onEvent;
  }

  async deliver(events: PoolEvent[]): Promise<void> {
    if (this.#never && events.length > 0) return new Promise(() => {});
    for (const event of events) {
      const entry = { at: Date.now(), event };
      this.events.push(entry);
      await this.#onEvent(JSON.stringify(entry));
    }
  }
}

/** A sink that takes every event and keeps none: a caller as fast as can be. */
class NullSink extends RpcTarget implements ExecutionSink {
  async deliver(): Promise<void> {}
}

/**
 * Runs `n` executions through one pool, `concurrency` at a time, from inside
 * the Worker: what one PoolDO sustains, without the HTTP front in the way.
 * Answers each one's time from its call to its answer (ms) and the wall time.
 */
async function load(stub: DurableObjectStub<PoolDO>, body: { n: number; concurrency: number; input: ExecuteInput }) {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const began = Date.now();
  const worker = async () => {
    for (let i = next++; i < body.n; i = next++) {
      const input = { ...body.input, id: newExecutionId() };
      const start = Date.now();
      const answer = await stub.execute(input, new NullSink());
      latencies.push(Date.now() - start);
      if (!answer.ok || answer.value.status !== "succeeded") failed++;
    }
  };
  await Promise.all(Array.from({ length: body.concurrency }, worker));
  return { wallMs: Date.now() - began, latencies, failed };
}

const POOL_ROUTE = /^\/__test\/pools\/([a-z0-9._-]+)\/(execute|connect|cancel|reset|load|agents|sandboxes)$/;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const match = POOL_ROUTE.exec(new URL(request.url).pathname);
    if (!match) return app.fetch(request, env, ctx);
    const [, pool = "", action] = match;
    const stub = env.POOL.getByName(pool) as unknown as DurableObjectStub<PoolDO>;
    const url = new URL(request.url);
    switch (action) {
      case "execute": {
        // Runs one execution to its end. Answers one JSON line per event as it comes, with its
        // time, then a last line with every event and the pool's answer.
        const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
        const writer = writable.getWriter();
        const encoder = new TextEncoder();
        const line = (text: string) => writer.write(encoder.encode(`${text}\n`));
        const sink = new RecordingSink(url.searchParams.get("sink") === "never", line);
        const input = (await request.json()) as ExecuteInput;
        const started = Date.now();
        ctx.waitUntil(
          stub.execute(input, sink).then(
            async (answer) => {
              await line(JSON.stringify({ started, ended: Date.now(), events: sink.events, answer }));
              await writer.close();
            },
            (err: unknown) => writer.abort(err),
          ),
        );
        return new Response(readable, { headers: { "Content-Type": "application/x-ndjson" } });
      }
      case "connect": {
        // An agent's socket, as the real connect route would pass it on, with the token's id and cap from the query.
        const headers = new Headers(request.headers);
        headers.set(CONNECT_HEADERS.pool, pool);
        headers.set(CONNECT_HEADERS.tokenId, url.searchParams.get("tokenId") ?? "token-1");
        headers.set(CONNECT_HEADERS.maxCapacity, url.searchParams.get("maxCapacity") ?? "64");
        return stub.fetch(new Request(request.url, { headers }));
      }
      case "cancel":
        return Response.json({ cancelled: await stub.cancel(url.searchParams.get("id") ?? "") });
      case "load":
        return Response.json(await load(stub, await request.json()));
      case "sandboxes":
        return Response.json({ agents: (await stub.agents()).agents, profile: await stub.sandboxProfile() });
      case "agents": {
        // The baseline beside "load": `n` RPCs that do nothing, `concurrency` at a time.
        const { n, concurrency } = (await request.json()) as { n: number; concurrency: number };
        const latencies: number[] = [];
        let next = 0;
        const began = Date.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            for (let i = next++; i < n; i = next++) {
              const start = Date.now();
              await stub.noop();
              latencies.push(Date.now() - start);
            }
          }),
        );
        return Response.json({ wallMs: Date.now() - began, latencies, failed: 0 });
      }
      default:
        await stub.resetForTest().catch(() => {});
        return Response.json({ reset: true });
    }
  },
};
