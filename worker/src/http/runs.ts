import {
  ApprovalRequest,
  type ModelRef,
  newRunId,
  type PayloadOf,
  QUEUE_TIMEOUT_MS,
  REQUEST_MAXIMA,
  RunId,
  RunRequest,
  type RunView,
  SendMessageRequest,
  type StoredTeam,
  type TeamStateExport,
} from "@edgeswarm/shared";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { EdgeswarmError, unwrap } from "../errors.ts";
import { checkConfigured, checkModelAllowed, storedModel } from "../models/config.ts";
import { limitsForPool } from "../pool-limits.ts";
import { describeSandbox } from "../run/sandbox.ts";
import { newRunTrace } from "../run/trace.ts";
import { historyOf, storedTeam } from "../team/config.ts";
import { checkWebhookConfigured } from "../webhooks/secrets.ts";
import { limitBody, parseBody } from "./body.ts";

const PAGE_DEFAULT = 100;
const PAGE_MAX = 1000;
const LIST_DEFAULT = 20;
const LIST_MAX = 100;

/**
 * The run the path names, once the tenant's own list says it is theirs: an
 * unknown id, or another tenant's, is answered 404 without touching (and so
 * creating) its object.
 */
function runStub(c: Context<AppEnv>) {
  return ownedRun(c, c.req.param("id") ?? "");
}

/** The run `id` names, once the tenant's list says it is theirs (see runStub); MCP's run tools use it too. */
export async function ownedRun(c: Context<AppEnv>, id: string) {
  if (!RunId.safeParse(id).success || !(await c.env.RUN_INDEX.getByName(c.get("tenant").id).owns(id))) {
    throw new EdgeswarmError("not_found", "no such run");
  }
  return c.env.RUN.getByName(id);
}

function intParam(c: Context<AppEnv>, name: string, fallback: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new EdgeswarmError("invalid_request", `?${name} must be a whole number from 0 to ${max}`);
  }
  return n;
}

/** What `POST /v1/runs` answers: the new run's id, status, trace and links. */
export type RunCreated = Pick<RunView, "id" | "status" | "traceId" | "links">;

/**
 * Creates a run from a validated request for the context's tenant: its pool
 * and models checked, a place taken in the tenant's list, the run stored.
 * The one way a run is made: `POST /v1/runs`, and MCP's `start_run`.
 */
export async function createRun(c: Context<AppEnv>, req: RunRequest): Promise<RunCreated> {
  const tenant = c.get("tenant");
  const pool = req.pool ?? tenant.pools[0];
  if (!pool || !tenant.pools.includes(pool)) {
    throw new EdgeswarmError("forbidden", `this API key may not use pool '${req.pool}'`);
  }
  const config = c.get("config");
  const limits = limitsForPool(req.limits, config.poolMaxima(pool), pool);
  const check = (role: string, model: ModelRef) => {
    checkConfigured(role, model, config);
    checkModelAllowed(role, model, tenant.limits);
  };
  const askedTeam = req.team ?? req.fromState?.team;
  const team: StoredTeam | null = askedTeam ? storedTeam(askedTeam, check) : null;
  // A team's run names its first coder's model as the run's coder, for the lists that show one.
  const coder = team
    ? ((team.participants.find((p) => p.role === "coder") ?? team.participants[0])?.model ??
      storedModel(undefined, "anthropic"))
    : storedModel(req.coder, "anthropic");
  const planner = team || req.planner === null ? null : storedModel(req.planner, "openai");
  if (!team) check("coder", coder);
  if (planner) check("planner", planner);
  if (req.webhookUrl) checkWebhookConfigured(config, tenant.id);

  const id = newRunId();
  const created: PayloadOf<"run.created"> = {
    task: req.task,
    tenant: tenant.id,
    planner,
    coder,
    maxIterations: req.maxIterations,
    tokenBudget: req.tokenBudget ?? null,
    timeoutMs: req.timeoutMs,
    approval: req.approval,
    limits,
    queueTimeoutMs: req.limits.queueTimeoutMs ?? QUEUE_TIMEOUT_MS.default,
    pool,
    metadata: req.metadata ?? null,
    webhookUrl: req.webhookUrl ?? null,
    trace: newRunTrace(c.get("trace")),
    files: req.files.map((f) => f.path),
    context: req.context,
    ...(team ? { team } : {}),
    ...(req.fromState ? { history: historyOf(req.fromState) } : {}),
  };
  const sandbox = await describeSandbox(c.env, pool);
  if (sandbox) created.sandbox = sandbox;
  // Listed first, which also takes a place in the tenant's activeRuns.
  const index = c.env.RUN_INDEX.getByName(tenant.id);
  const now = new Date().toISOString();
  unwrap(
    await index.reserve(
      { id, status: "queued", task: req.task, createdAt: now, updatedAt: now, seq: 0 },
      tenant.limits.activeRuns,
    ),
  );
  const made = await c.env.RUN.getByName(id)
    .create({ id, created, files: req.files })
    .catch((cause: unknown) => {
      c.executionCtx.waitUntil(index.remove(id)); // its place in activeRuns is free again
      throw new EdgeswarmError("internal_error", "the run could not be stored; retry", { cause, retryAfterS: 1 });
    });
  if (!made.ok) c.executionCtx.waitUntil(index.remove(id));
  const view = unwrap(made);
  return { id, status: view.status, traceId: view.traceId, links: view.links };
}

/** The runs API: create, read, follow, cancel, approve, list. */
export const runs = new Hono<AppEnv>()
  .post("/", limitBody(REQUEST_MAXIMA.bodyBytes), async (c) =>
    c.json(await createRun(c, await parseBody(c, RunRequest)), 201),
  )
  .get("/", async (c) => {
    const limit = intParam(c, "limit", LIST_DEFAULT, LIST_MAX) || LIST_DEFAULT;
    const list = await c.env.RUN_INDEX.getByName(c.get("tenant").id).list(limit, c.req.query("cursor") ?? null);
    return c.json(list);
  })
  .get("/:id", async (c) => c.json(unwrap(await (await runStub(c)).view(c.get("tenant").id)) satisfies RunView))
  .get("/:id/events", async (c) => {
    const stub = await runStub(c);
    const tenant = c.get("tenant").id;
    if (c.req.header("Accept")?.includes("text/event-stream")) {
      const from = c.req.header("Last-Event-ID") ?? c.req.query("after") ?? "0";
      const after = /^\d{1,15}$/.test(from) ? Number(from) : 0;
      const body = unwrap(await stub.events(tenant, after));
      return new Response(body, {
        headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" },
      });
    }
    const after = intParam(c, "after", 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c, "limit", PAGE_DEFAULT, PAGE_MAX) || PAGE_DEFAULT;
    return c.json(unwrap(await stub.page(tenant, after, limit)));
  })
  .post("/:id/cancel", async (c) => c.json(unwrap(await (await runStub(c)).cancel(c.get("tenant").id))))
  .post("/:id/approval", limitBody(64 * 1024), async (c) => {
    const body = await parseBody(c, ApprovalRequest);
    const stub = await runStub(c);
    return c.json(unwrap(await stub.approve(c.get("tenant").id, body.approve, body.reason ?? null, body.toolCallId)));
  })
  .post("/:id/messages", limitBody(256 * 1024), async (c) => {
    const body = await parseBody(c, SendMessageRequest);
    const stub = await runStub(c);
    const tenant = c.get("tenant");
    return c.json(unwrap(await stub.send(tenant.id, body.text, tenant.limits.activeRuns)) satisfies RunView);
  })
  .get("/:id/state", async (c) => {
    const stub = await runStub(c);
    return c.json(unwrap(await stub.exportState(c.get("tenant").id)) satisfies TeamStateExport);
  });
