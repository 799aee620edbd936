import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type RunView, WEBHOOK_HEADERS, WebhookPayload } from "@edgeswarm/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../scripts/lib/wait.ts";
import { FakeAnthropic } from "../fakes/anthropic.ts";
import { reply } from "../fakes/server.ts";
import { byCase, type CoderScript, createRun, followRun, getRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";

// Webhooks on a run's end, against the real Worker and agent, real Docker, a
// fake Anthropic server, and a webhook receiver on loopback that checks every
// signature with the docs' own verification snippet.
const ANTHROPIC_KEY = "sk-ant-test-key-webhooks";
const SECRET = "whsec-test-tenant-a-0123456789abcdef";
const ROOT = join(import.meta.dirname, "..", "..");

type Verify = (rawBody: Buffer | string, header: string | undefined, secret: string, tolerance?: number) => boolean;

/** The first `js` block of docs/webhooks.md, imported as a module: the docs cannot drift. */
async function documentedVerifier(dir: string): Promise<Verify> {
  const doc = await readFile(join(ROOT, "docs", "webhooks.md"), "utf8");
  const block = /```js\n([\s\S]*?)\n```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/webhooks.md has no js block");
  const file = join(dir, "verify-webhook.mjs");
  await writeFile(file, block);
  const mod = (await import(pathToFileURL(file).href)) as { verifyWebhook?: Verify };
  if (!mod.verifyWebhook) throw new Error("the docs' snippet exports no verifyWebhook");
  return mod.verifyWebhook;
}

/** One request the receiver got, with how it answered. */
interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: WebhookPayload;
  verified: boolean;
  /** The status it answered, or null while it holds the request. */
  answered: number | null;
}

/** A path's behaviour for its n-th request (1-based): a status, or "hold" to leave it unanswered. */
type Behaviour = (n: number) => number | "hold";

/** A webhook receiver on 127.0.0.1: records each request and answers as its path's behaviour says. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  readonly behaviours = new Map<string, Behaviour>();
  readonly #held: { delivery: Delivery; res: ServerResponse }[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #server: Server;
  readonly #verify: Verify;

  private constructor(verify: Verify) {
    this.#verify = verify;
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const path = req.url ?? "/";
        const delivery: Delivery = {
          path,
          headers: req.headers,
          raw,
          body: WebhookPayload.parse(JSON.parse(raw.toString("utf8"))),
          verified: this.#verify(raw, req.headers["edgeswarm-signature"] as string | undefined, SECRET),
          answered: null,
        };
        this.deliveries.push(delivery);
        const n = this.deliveries.filter((d) => d.path === path).length;
        const behaviour = this.behaviours.get(path)?.(n) ?? 404;
        if (behaviour === "hold") this.#held.push({ delivery, res });
        else this.#answer(delivery, res, behaviour);
        for (const wake of this.#waiters) wake();
      });
    });
  }

  static async start(verify: Verify): Promise<Receiver> {
    const receiver = new Receiver(verify);
    await new Promise<void>((resolve) => receiver.#server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  #answer(delivery: Delivery, res: ServerResponse, status: number): void {
    delivery.answered = status;
    res.writeHead(status).end();
  }

  /** Drops every held request without an answer, as a receiver that died would. */
  drop(): void {
    for (const { res } of this.#held.splice(0)) res.destroy();
  }

  /** The requests for one run, in arrival order. */
  of(runId: string): Delivery[] {
    return this.deliveries.filter((d) => d.body.run.id === runId);
  }

  /** Resolves with the run's `n`-th request (1-based) once it has arrived. */
  nth(runId: string, n: number, timeoutMs = 60_000): Promise<Delivery> {
    return within(
      new Promise<Delivery>((resolve) => {
        const check = () => {
          const found = this.of(runId)[n - 1];
          if (!found) return;
          this.#waiters.delete(check);
          resolve(found);
        };
        this.#waiters.add(check);
        check();
      }),
      timeoutMs,
      `webhook request ${n} for run ${runId}`,
    );
  }

  async close(): Promise<void> {
    this.drop();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * Reads the run until its webhook has left `pending`. The Worker records an
 * attempt's answer a moment after the receiver sends it, and nothing streams
 * that, so this polls, bounded in count and time.
 */
async function settled(id: string): Promise<RunView> {
  for (let i = 0; i < 600; i++) {
    const view = await getRun(stack.api, id);
    if (view.webhook && view.webhook.state !== "pending") return view;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id}: its webhook was still pending after 600 reads`);
}

/** Each test's runs carry `[case:<name>]` in their task; the fake coder answers each with its script. */
const scripts = new Map<string, CoderScript>();
const neverAnswered = Promise.withResolvers<void>();

const finish = (verdict: "success" | "failure") =>
  reply.toolUse("finish", { summary: `verdict: ${verdict}`, code: "print('hi')", verdict });

let stack: Stack;
let anthropic: FakeAnthropic;
let receiver: Receiver;
let verify: Verify;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgeswarm-webhooks-"));
  verify = await documentedVerifier(dir);
  receiver = await Receiver.start(verify);
  anthropic = await FakeAnthropic.start({
    apiKey: ANTHROPIC_KEY,
    default: byCase(scripts),
  });
  stack = await startStack("e2e-webhooks", 1, 2, {
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: anthropic.url,
    // Tenant B has no secret: its webhook runs are refused.
    EDGESWARM_WEBHOOK_SECRETS: JSON.stringify({ "tenant-a": SECRET }),
    EDGESWARM_WEBHOOK_RETRY_BASE_MS: "250",
  });
});
// Replies a test queued and did not use never answer the next test's requests.
afterEach(() => {
  anthropic?.reset();
});
afterAll(async () => {
  neverAnswered.resolve();
  await stack?.stop();
  await receiver?.close();
  await anthropic?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("webhooks", () => {
  it("posts one signed delivery when a run succeeds: the run, file sizes, headers", async () => {
    receiver.behaviours.set("/ok", () => 204);
    scripts.set("ok", (turn) =>
      turn === 0
        ? reply.toolUse("run_code", { code: "open('out.txt', 'w').write('héllo')\nprint('wrote it')" })
        : finish("success"),
    );
    const id = await createRun(stack.api, {
      task: "[case:ok] Write out.txt.",
      planner: null,
      metadata: { order: "42" },
      webhookUrl: receiver.url("/ok"),
    });
    const { view } = await runToEnd(stack.api, id);
    expect(view.status).toBe("succeeded");

    const delivery = await receiver.nth(id, 1);
    expect(delivery.verified).toBe(true);
    expect(delivery.answered).toBe(204);
    const deliveryId = delivery.body.id;
    expect(delivery.headers[WEBHOOK_HEADERS.delivery.toLowerCase()]).toBe(deliveryId);
    expect(delivery.headers[WEBHOOK_HEADERS.event.toLowerCase()]).toBe("run.succeeded");
    expect(delivery.headers[WEBHOOK_HEADERS.attempt.toLowerCase()]).toBe("1");
    expect(delivery.headers["content-type"]).toBe("application/json");
    // The delivery continues the run's trace: its root span is the parent.
    expect(view.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(delivery.headers.traceparent).toMatch(new RegExp(`^00-${view.traceId}-[0-9a-f]{16}-0[01]$`));
    expect(delivery.body).toMatchObject({
      type: "run.succeeded",
      truncated: false,
      createdAt: view.finishedAt,
      run: {
        id,
        status: "succeeded",
        task: "[case:ok] Write out.txt.",
        iterations: 1,
        metadata: { order: "42" },
        finishedAt: view.finishedAt,
        result: { stdout: "wrote it\n", files: [{ path: "out.txt", encoding: "utf8", bytes: 6 }] },
      },
    });
    expect(delivery.raw.toString()).not.toContain("héllo"); // sizes, not contents

    const after = await settled(id);
    expect(after.webhook).toEqual({
      deliveryId,
      state: "delivered",
      attempts: 1,
      lastStatus: 204,
      lastError: null,
      nextAttemptAt: null,
    });
  });

  it("posts run.failed for a failed run and run.cancelled for a cancelled one", async () => {
    receiver.behaviours.set("/ends", () => 200);
    scripts.set("fails", () => finish("failure"));
    scripts.set("cancelled", () => reply.toolUse("run_code", { code: "print('never run')" }));

    const failed = await createRun(stack.api, {
      task: "[case:fails] Give up.",
      planner: null,
      webhookUrl: receiver.url("/ends"),
    });
    expect((await runToEnd(stack.api, failed)).view.status).toBe("failed");
    const failure = await receiver.nth(failed, 1);
    expect(failure.verified).toBe(true);
    expect(failure.headers["edgeswarm-event"]).toBe("run.failed");
    expect(failure.body.run).toMatchObject({ status: "failed", error: { reason: "step_failed" }, result: null });

    // Parked for approval (no drive running), then cancelled: the cancel itself wakes the delivery.
    const cancelled = await createRun(stack.api, {
      task: "[case:cancelled] Wait for approval.",
      planner: null,
      approval: "always",
      webhookUrl: receiver.url("/ends"),
    });
    for await (const e of followRun(stack.api, cancelled)) if (e.type === "approval.requested") break;
    expect((await stack.api.raw(`/v1/runs/${cancelled}/cancel`, "")).status).toBe(200);
    const cancel = await receiver.nth(cancelled, 1);
    expect(cancel.verified).toBe(true);
    expect(cancel.headers["edgeswarm-event"]).toBe("run.cancelled");
    expect(cancel.body.run).toMatchObject({ status: "cancelled", error: { reason: "cancelled" } });
    expect(cancel.body.id).not.toBe(failure.body.id);
  });

  it("posts run.timed_out for a run that passes its timeoutMs during a model call", async () => {
    receiver.behaviours.set("/timeout", () => 200);
    scripts.set("timeout", async () => {
      await neverAnswered.promise;
      return finish("success");
    });
    const id = await createRun(stack.api, {
      task: "[case:timeout] Think forever.",
      planner: null,
      timeoutMs: 1_000,
      webhookUrl: receiver.url("/timeout"),
    });
    expect((await runToEnd(stack.api, id)).view.status).toBe("timed_out");
    const delivery = await receiver.nth(id, 1);
    expect(delivery.verified).toBe(true);
    expect(delivery.body).toMatchObject({ type: "run.timed_out", run: { status: "timed_out" } });
  });

  it("retries a 500 with the same delivery id and body, freshly signed, and records the retry", async () => {
    receiver.behaviours.set("/flaky", (n) => (n === 1 ? 500 : 202));
    scripts.set("flaky", () => finish("success"));
    const id = await createRun(stack.api, {
      task: "[case:flaky] Finish.",
      planner: null,
      webhookUrl: receiver.url("/flaky"),
    });
    await runToEnd(stack.api, id);
    const first = await receiver.nth(id, 1);
    const second = await receiver.nth(id, 2);
    expect([first.answered, second.answered]).toEqual([500, 202]);
    expect([first.verified, second.verified]).toEqual([true, true]);
    expect(second.headers["edgeswarm-delivery"]).toBe(first.headers["edgeswarm-delivery"]);
    expect(second.raw.equals(first.raw)).toBe(true);
    expect([first.headers["edgeswarm-attempt"], second.headers["edgeswarm-attempt"]]).toEqual(["1", "2"]);

    const view = await settled(id);
    expect(view.webhook).toMatchObject({ state: "delivered", attempts: 2, lastStatus: 202, lastError: null });
  });

  it("gives up at once on a 4xx refusal, and says so on the run", async () => {
    receiver.behaviours.set("/gone", () => 410);
    scripts.set("gone", () => finish("success"));
    const id = await createRun(stack.api, {
      task: "[case:gone] Finish.",
      planner: null,
      webhookUrl: receiver.url("/gone"),
    });
    await runToEnd(stack.api, id);
    const view = await settled(id);
    expect(view.webhook).toMatchObject({ state: "failed", attempts: 1, lastStatus: 410, nextAttemptAt: null });
    expect(view.webhook?.lastError).toContain("410");
    expect(receiver.of(id)).toHaveLength(1);
  });

  it("does not hold up the run's end while the receiver never answers", async () => {
    receiver.behaviours.set("/silent", () => "hold");
    scripts.set("silent", () => finish("success"));
    const id = await createRun(stack.api, {
      task: "[case:silent] Finish.",
      planner: null,
      webhookUrl: receiver.url("/silent"),
    });
    const { events } = await runToEnd(stack.api, id);
    expect(events.at(-1)?.type).toBe("run.finished");
    const held = await receiver.nth(id, 1);
    expect(held.answered).toBeNull();
    // The receiver still holds the first attempt: the run has ended all the same.
    const view = await getRun(stack.api, id);
    expect(view).toMatchObject({ status: "succeeded", webhook: { state: "pending", attempts: 1 } });
    expect(view.finishedAt).not.toBeNull();
    const list = (await (await stack.api.get("/v1/runs?limit=100")).json()) as {
      runs: { id: string; status: string }[];
    };
    expect(list.runs.find((r) => r.id === id)?.status).toBe("succeeded");

    receiver.behaviours.set("/silent", () => 204);
    receiver.drop(); // the attempt fails as a network error, and the retry is accepted
    expect((await settled(id)).webhook?.state).toBe("delivered");
  });

  it("refuses a bad webhookUrl with 400, and 422 for a tenant without a signing secret", async () => {
    const cases: [string, unknown][] = [
      ["ftp", "ftp://127.0.0.1/hook"],
      ["too long", `http://127.0.0.1/${"a".repeat(2048)}`],
      ["not a URL", "hook"],
      ["not a string", 42],
    ];
    for (const [what, webhookUrl] of cases) {
      const res = await stack.api.raw("/v1/runs", JSON.stringify({ task: "x", planner: null, webhookUrl }));
      expect(res.status, what).toBe(400);
      const body = (await res.json()) as { error: { code: string; details: { path: string }[] } };
      expect(body.error.code, what).toBe("invalid_request");
      expect(
        body.error.details.map((d) => d.path),
        what,
      ).toContain("webhookUrl");
    }
    const res = await stack.apiB.raw(
      "/v1/runs",
      JSON.stringify({ task: "x", planner: null, pool: TENANTS.b.pool, webhookUrl: receiver.url("/ok") }),
    );
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("webhook_not_configured");
    expect(body.error.message).toContain("EDGESWARM_WEBHOOK_SECRETS");
  });

  it("the documented verifier rejects a changed body, a wrong secret and an old timestamp", () => {
    const delivery = receiver.deliveries[0];
    if (!delivery) throw new Error("no delivery recorded yet");
    const header = delivery.headers["edgeswarm-signature"] as string;
    expect(verify(delivery.raw, header, SECRET)).toBe(true);
    expect(verify(Buffer.concat([delivery.raw, Buffer.from(" ")]), header, SECRET)).toBe(false);
    expect(verify(delivery.raw, header, `${SECRET}x`)).toBe(false);
    expect(verify(delivery.raw, undefined, SECRET)).toBe(false);
    const old = Math.floor(Date.now() / 1000) - 301;
    const mac = createHmac("sha256", SECRET).update(`${old}.`).update(delivery.raw).digest("hex");
    expect(verify(delivery.raw, `t=${old},v1=${mac}`, SECRET)).toBe(false);
    expect(
      verify(
        delivery.raw,
        `t=${old + 2},v1=${createHmac("sha256", SECRET)
          .update(`${old + 2}.`)
          .update(delivery.raw)
          .digest("hex")}`,
        SECRET,
      ),
    ).toBe(true);
  });

  it("delivers a retry that was pending across a restart of the Worker", { timeout: 180_000 }, async () => {
    let restarted = false;
    receiver.behaviours.set("/restart", () => (restarted ? 204 : 503));
    scripts.set("restart", () => finish("success"));
    const id = await createRun(stack.api, {
      task: "[case:restart] Finish.",
      planner: null,
      webhookUrl: receiver.url("/restart"),
    });
    await runToEnd(stack.api, id);
    const first = await receiver.nth(id, 1);
    expect(first.answered).toBe(503);

    await stack.worker.restart();
    restarted = true;
    // Nothing reads the run: only its alarm, restored from storage, can send the retry.
    const accepted = await within(
      (async () => {
        for (let n = 2; n <= 10; n++) {
          const d = await receiver.nth(id, n, 170_000);
          if (d.answered === 204) return d;
        }
        throw new Error("no attempt was accepted");
      })(),
      170_000,
      `the accepted retry for run ${id}`,
    );
    expect(accepted.verified).toBe(true);
    expect(accepted.headers["edgeswarm-delivery"]).toBe(first.headers["edgeswarm-delivery"]);
    expect(accepted.raw.equals(first.raw)).toBe(true);
    expect((await settled(id)).webhook).toMatchObject({ state: "delivered", lastStatus: 204 });
  });

  it("makes an attempt again when the Worker was killed during it", { timeout: 180_000 }, async () => {
    let killed = false;
    receiver.behaviours.set("/killed", () => (killed ? 204 : "hold"));
    scripts.set("killed", () => finish("success"));
    const id = await createRun(stack.api, {
      task: "[case:killed] Finish.",
      planner: null,
      webhookUrl: receiver.url("/killed"),
    });
    await runToEnd(stack.api, id);
    const held = await receiver.nth(id, 1);
    await stack.worker.kill();
    killed = true;
    await stack.worker.restart();
    // The attempt's answer never reached the Worker: the alarm set past its timeout sends it again.
    const again = await receiver.nth(id, 2, 170_000);
    expect(held.answered).toBeNull();
    expect(again).toMatchObject({ answered: 204, verified: true });
    expect(again.headers["edgeswarm-attempt"]).toBe("2");
    expect(again.raw.equals(held.raw)).toBe(true);
    expect((await settled(id)).webhook).toMatchObject({ state: "delivered", attempts: 2 });
  });

  it("sent every run one delivery id, accepted at most once, every request signed", () => {
    const byRun = new Map<string, Delivery[]>();
    for (const d of receiver.deliveries) byRun.set(d.body.run.id, [...(byRun.get(d.body.run.id) ?? []), d]);
    expect(byRun.size).toBe(9);
    for (const [run, list] of byRun) {
      expect(new Set(list.map((d) => d.body.id)).size, run).toBe(1);
      expect(list.filter((d) => d.answered !== null && d.answered < 300).length, run).toBeLessThanOrEqual(1);
      expect(
        list.every((d) => d.verified),
        run,
      ).toBe(true);
    }
  });
});
