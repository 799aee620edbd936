import { DurableObject } from "cloudflare:workers";
import { type RunList, RunStatus, type RunSummary, TERMINAL_RUN_STATUSES } from "@edgeswarm/shared";
import { z } from "zod";
import type { Env } from "../env.ts";
import { type Answer, EdgeswarmError, refusal } from "../errors.ts";

export const IndexEntry = z.object({
  id: z.string(),
  status: RunStatus,
  task: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The run's last seq when this was written: an older report never overwrites a newer one. */
  seq: z.number().int(),
});
export type IndexEntry = z.infer<typeof IndexEntry>;

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  status: string;
  task: string;
  created_at: string;
  updated_at: string;
}

const TASK_PREVIEW = 200;

/**
 * One tenant's list of runs, newest first: the runs report their status here
 * as it changes. One object per tenant keeps `GET /v1/runs` one call.
 */
export class RunIndexDO extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS runs (
      id TEXT PRIMARY KEY, status TEXT NOT NULL, task TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, seq INTEGER NOT NULL
    )`);
    this.#sql.exec("CREATE INDEX IF NOT EXISTS runs_by_age ON runs (created_at DESC, id DESC)");
    this.#sql.exec("CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status)");
  }

  /**
   * Lists a new run before it exists, if the tenant has fewer than
   * `activeRuns` runs going: the `activeRuns` quota, checked and taken in one
   * step. Every run is in its tenant's list from before it starts until it is
   * deleted, so the list answers whether a run id is the tenant's.
   */
  reserve(entry: IndexEntry, activeRuns: number): Answer<null> {
    const full = this.#full(activeRuns);
    if (full) return full;
    this.put({ ...entry, seq: 0 });
    return { ok: true, value: null };
  }

  /**
   * Takes a place in `activeRuns` again for an ended run that is being
   * continued, in the same step as the check; `entry.seq` is its new event's.
   */
  reopen(entry: IndexEntry, activeRuns: number): Answer<null> {
    const full = this.#full(activeRuns);
    if (full) return full;
    this.put(entry);
    return { ok: true, value: null };
  }

  #full(activeRuns: number): Answer<never> | null {
    const ended = TERMINAL_RUN_STATUSES.map(() => "?").join(", ");
    const active = this.#sql
      .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM runs WHERE status NOT IN (${ended})`, ...TERMINAL_RUN_STATUSES)
      .one().n;
    if (active < activeRuns) return null;
    return refusal(
      new EdgeswarmError("quota_exceeded", `this tenant has ${active} runs going, its most (activeRuns)`, {
        details: { quota: "activeRuns", limit: activeRuns },
        retryAfterS: 5,
      }),
    );
  }

  /** Whether `id` is one of this tenant's runs. */
  owns(id: string): boolean {
    return this.#sql.exec("SELECT 1 FROM runs WHERE id = ?", id).toArray().length > 0;
  }

  /** Forgets a run (it was refused at creation, or its retention ended). */
  remove(id: string): void {
    this.#sql.exec("DELETE FROM runs WHERE id = ?", id);
  }

  put(entry: IndexEntry): void {
    const e = IndexEntry.parse(entry);
    this.#sql.exec(
      `INSERT INTO runs (id, status, task, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, seq = excluded.seq
       WHERE excluded.seq > runs.seq`,
      e.id,
      e.status,
      e.task.slice(0, TASK_PREVIEW),
      e.createdAt,
      e.updatedAt,
      e.seq,
    );
  }

  /** A page of runs, newest first; the cursor is the last run of the previous page. */
  list(limit: number, cursor: string | null): RunList {
    const after = cursor ? decodeCursor(cursor) : null;
    const rows = (
      after
        ? this.#sql.exec<Row>(
            `SELECT id, status, task, created_at, updated_at FROM runs
             WHERE created_at < ? OR (created_at = ? AND id < ?)
             ORDER BY created_at DESC, id DESC LIMIT ?`,
            after.createdAt,
            after.createdAt,
            after.id,
            limit + 1,
          )
        : this.#sql.exec<Row>(
            "SELECT id, status, task, created_at, updated_at FROM runs ORDER BY created_at DESC, id DESC LIMIT ?",
            limit + 1,
          )
    ).toArray();
    const page = rows.slice(0, limit);
    const runs: RunSummary[] = page.map((r) => ({
      id: r.id,
      status: RunStatus.parse(r.status),
      task: r.task,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
    const last = page.at(-1);
    return { runs, nextCursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null };
  }
}

function encodeCursor(createdAt: string, id: string): string {
  return btoa(`${createdAt}|${id}`).replaceAll("=", "");
}

function decodeCursor(cursor: string): { createdAt: string; id: string } | null {
  try {
    const [createdAt, id] = atob(cursor).split("|");
    return createdAt && id ? { createdAt, id } : null;
  } catch {
    return null;
  }
}
