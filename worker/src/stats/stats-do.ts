import { DurableObject } from "cloudflare:workers";
import { STATS_WINDOWS, type StatsPoint, type StatsWindow, type TenantStats } from "@edgeswarm/shared";
import { z } from "zod";
import type { Env } from "../env.ts";
import { type Counts, emptyCounts, merge, quantile, record } from "./histogram.ts";

/** How long minutes are kept: the longest window. */
const KEEP_MINUTES = STATS_WINDOWS["24h"];
/** Distinct keys (models, agents) one series keeps per minute; the rest count as "(other)". */
export const KEYS_PER_MINUTE = 64;
export const OTHER_KEY = "(other)";
/** The longest key (a model's name, an agent's id) kept; callers cut theirs to it. */
export const STATS_KEY_CHARS = 256;
/** Points in a window's series, at most: 24 h goes in 15-minute steps. */
const MAX_POINTS = 96;

const MINUTE_MS = 60_000;

export const ExecutionStat = z.object({
  at: z.number(),
  status: z.string().max(32),
  durationMs: z.number().min(0),
  agentId: z.string().max(STATS_KEY_CHARS).nullable(),
});
export type ExecutionStat = z.infer<typeof ExecutionStat>;

export const RunStat = z.object({
  at: z.number(),
  status: z.string().max(32),
  durationMs: z.number().min(0),
  iterations: z.number().int().min(0),
  tokens: z
    .array(
      z.object({
        role: z.string().max(32),
        model: z.string().max(STATS_KEY_CHARS),
        input: z.number(),
        output: z.number(),
      }),
    )
    .max(16),
});
export type RunStat = z.infer<typeof RunStat>;

type Kind = "exec" | "run" | "role" | "model" | "agent";

interface Row extends Record<string, SqlStorageValue> {
  minute: number;
  kind: string;
  key: string;
  n: number;
  errors: number;
  input: number;
  output: number;
  ms: string | null;
  iters: string | null;
}

/**
 * One tenant's statistics, in per-minute rows kept for 24 h: executions by
 * status, runs by status, tokens by role and by model, executions by agent,
 * each with a duration histogram (histogram.ts). One object per tenant, so
 * the storage grows with the tenant and no object is shared between them.
 * Every key that a caller can choose (a model's name, an agent's id) is
 * bounded per minute.
 */
export class StatsDO extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS series (
      minute INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
      n INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0,
      input INTEGER NOT NULL DEFAULT 0, output INTEGER NOT NULL DEFAULT 0,
      ms TEXT, iters TEXT,
      PRIMARY KEY (minute, kind, key)
    )`);
  }

  recordExecution(stat: ExecutionStat): void {
    const s = ExecutionStat.parse(stat);
    const minute = Math.floor(s.at / MINUTE_MS);
    this.#add(minute, "exec", s.status, { n: 1, ms: s.durationMs });
    if (s.agentId)
      this.#add(minute, "agent", s.agentId, { n: 1, errors: s.status === "error" ? 1 : 0, ms: s.durationMs });
    this.#prune(minute);
  }

  recordRun(stat: RunStat): void {
    const s = RunStat.parse(stat);
    const minute = Math.floor(s.at / MINUTE_MS);
    this.#add(minute, "run", s.status, { n: 1, ms: s.durationMs, iters: s.iterations });
    for (const t of s.tokens) {
      this.#add(minute, "role", t.role, { input: t.input, output: t.output });
      this.#add(minute, "model", t.model, { input: t.input, output: t.output });
    }
    this.#prune(minute);
  }

  stats(window: StatsWindow, now = Date.now()): TenantStats {
    const minutes = STATS_WINDOWS[window];
    const last = Math.floor(now / MINUTE_MS);
    const first = last - minutes + 1;
    const rows = this.#sql
      .exec<Row>("SELECT * FROM series WHERE minute >= ? AND minute <= ? ORDER BY minute", first, last)
      .toArray();
    const step = Math.max(1, Math.ceil(minutes / MAX_POINTS));

    const exec = new Series();
    const runs = new Series();
    const roles = new Map<string, { input: number; output: number }>();
    const models = new Map<string, { input: number; output: number }>();
    const agents = new Map<string, { executions: number; errors: number; ms: Counts }>();
    const points = new Map<number, { exec: Series; runs: Series }>();
    for (const row of rows) {
      const at = first + Math.floor((row.minute - first) / step) * step;
      const point = points.get(at) ?? { exec: new Series(), runs: new Series() };
      points.set(at, point);
      switch (row.kind as Kind) {
        case "exec":
          exec.add(row);
          point.exec.add(row);
          break;
        case "run":
          runs.add(row);
          point.runs.add(row);
          break;
        case "role":
          addTokens(roles, row);
          break;
        case "model":
          addTokens(models, row);
          break;
        case "agent": {
          const a = agents.get(row.key) ?? { executions: 0, errors: 0, ms: emptyCounts() };
          a.executions += row.n;
          a.errors += row.errors;
          merge(a.ms, parse(row.ms));
          agents.set(row.key, a);
          break;
        }
      }
    }

    const series: StatsPoint[] = [];
    for (let at = first; at <= last; at += step) {
      const p = points.get(at);
      series.push({
        at: new Date(at * MINUTE_MS).toISOString(),
        executions: p ? Object.fromEntries(p.exec.byStatus) : {},
        runs: p ? Object.fromEntries(p.runs.byStatus) : {},
        executionMs: percentiles(p?.exec.ms ?? emptyCounts()),
        runMs: percentiles(p?.runs.ms ?? emptyCounts()),
      });
    }
    return {
      window,
      from: new Date(first * MINUTE_MS).toISOString(),
      to: new Date((last + 1) * MINUTE_MS).toISOString(),
      executions: { total: exec.total, byStatus: Object.fromEntries(exec.byStatus), durationMs: percentiles(exec.ms) },
      runs: {
        total: runs.total,
        byStatus: Object.fromEntries(runs.byStatus),
        durationMs: percentiles(runs.ms),
        iterations: { p50: quantile(runs.iters, 0.5), p95: quantile(runs.iters, 0.95) },
      },
      tokens: { byRole: Object.fromEntries(roles), byModel: Object.fromEntries(models) },
      agents: [...agents.entries()]
        .map(([id, a]) => ({
          id,
          executions: a.executions,
          errors: a.errors,
          durationMs: { p50: quantile(a.ms, 0.5), p99: quantile(a.ms, 0.99) },
        }))
        .sort((a, b) => b.executions - a.executions || a.id.localeCompare(b.id)),
      stepMinutes: step,
      series,
    };
  }

  #add(
    minute: number,
    kind: Kind,
    key: string,
    add: { n?: number; errors?: number; input?: number; output?: number; ms?: number; iters?: number },
  ): void {
    let row = this.#row(minute, kind, key);
    if (!row) {
      const keys = this.#sql
        .exec<{ k: number }>("SELECT COUNT(*) AS k FROM series WHERE minute = ? AND kind = ?", minute, kind)
        .one().k;
      if (keys >= KEYS_PER_MINUTE && key !== OTHER_KEY) return this.#add(minute, kind, OTHER_KEY, add);
      row = { minute, kind, key, n: 0, errors: 0, input: 0, output: 0, ms: null, iters: null };
    }
    const ms = parse(row.ms);
    const iters = parse(row.iters);
    if (add.ms !== undefined) record(ms, add.ms);
    if (add.iters !== undefined) record(iters, add.iters);
    this.#sql.exec(
      `INSERT OR REPLACE INTO series (minute, kind, key, n, errors, input, output, ms, iters)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      minute,
      kind,
      key,
      row.n + (add.n ?? 0),
      row.errors + (add.errors ?? 0),
      row.input + Math.max(0, Math.round(add.input ?? 0)),
      row.output + Math.max(0, Math.round(add.output ?? 0)),
      add.ms !== undefined || row.ms ? JSON.stringify(ms) : null,
      add.iters !== undefined || row.iters ? JSON.stringify(iters) : null,
    );
  }

  #row(minute: number, kind: Kind, key: string): Row | undefined {
    return this.#sql
      .exec<Row>("SELECT * FROM series WHERE minute = ? AND kind = ? AND key = ?", minute, kind, key)
      .toArray()[0];
  }

  #prune(minute: number): void {
    this.#sql.exec("DELETE FROM series WHERE minute < ?", minute - KEEP_MINUTES);
  }
}

/** Runs or executions of a window: counts by status and one histogram. */
class Series {
  readonly byStatus = new Map<string, number>();
  readonly ms = emptyCounts();
  readonly iters = emptyCounts();
  total = 0;

  add(row: Row): void {
    this.total += row.n;
    this.byStatus.set(row.key, (this.byStatus.get(row.key) ?? 0) + row.n);
    merge(this.ms, parse(row.ms));
    merge(this.iters, parse(row.iters));
  }
}

function addTokens(map: Map<string, { input: number; output: number }>, row: Row): void {
  const t = map.get(row.key) ?? { input: 0, output: 0 };
  t.input += row.input;
  t.output += row.output;
  map.set(row.key, t);
}

function percentiles(counts: Counts) {
  return { p50: quantile(counts, 0.5), p95: quantile(counts, 0.95), p99: quantile(counts, 0.99) };
}

function parse(json: string | null): Counts {
  const counts = emptyCounts();
  if (!json) return counts;
  const stored = JSON.parse(json) as number[];
  merge(counts, stored);
  return counts;
}
