import {
  EVENT_PAYLOADS,
  EVENT_VERSION,
  type EventSource,
  type PayloadOf,
  type RunEvent,
  type RunEventType,
} from "@edgeswarm/shared";

/** A stored event row; converted by {@link rowToEvent}, never handed out as is. */
interface EventRow {
  seq: number;
  type: string;
  source: string;
  at: string;
  v: number;
  payload: string;
  [key: string]: SqlStorageValue;
}

function rowToEvent(row: EventRow): RunEvent {
  // Rows were validated when appended; this only restores the shape.
  return {
    seq: row.seq,
    type: row.type,
    source: row.source,
    at: row.at,
    v: row.v,
    payload: JSON.parse(row.payload),
  } as RunEvent;
}

/**
 * The run's append-only event log in the Durable Object's SQLite storage. Seqs
 * are contiguous from 1. An append may carry an idempotency key: appending the
 * same key twice stores the event once, so an effect that is re-driven after a
 * restart cannot duplicate its result.
 */
export class EventLog {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY,
      type TEXT NOT NULL,
      source TEXT NOT NULL,
      at TEXT NOT NULL,
      v INTEGER NOT NULL,
      payload TEXT NOT NULL,
      idem TEXT UNIQUE
    )`);
  }

  /**
   * Appends one event, validating its payload (a bad payload is a bug: it
   * throws). Returns the stored event, or null when `idem` was used before.
   */
  append<T extends RunEventType>(type: T, source: EventSource, payload: PayloadOf<T>, idem?: string): RunEvent | null {
    const checked = EVENT_PAYLOADS[type].parse(payload);
    if (idem !== undefined) {
      const seen = this.#sql.exec("SELECT seq FROM events WHERE idem = ?", idem).toArray();
      if (seen.length > 0) return null;
    }
    const seq = this.lastSeq() + 1;
    const at = new Date().toISOString();
    const text = JSON.stringify(checked);
    this.#sql.exec(
      "INSERT INTO events (seq, type, source, at, v, payload, idem) VALUES (?, ?, ?, ?, ?, ?, ?)",
      seq,
      type,
      source,
      at,
      EVENT_VERSION,
      text,
      idem ?? null,
    );
    return { seq, type, source, at, v: EVENT_VERSION, payload: checked } as RunEvent;
  }

  lastSeq(): number {
    const row = this.#sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM events").one();
    return row.seq ?? 0;
  }

  /** Events with seq > `after`, oldest first, at most `limit`. */
  after(after: number, limit = 1000): RunEvent[] {
    return this.#sql
      .exec<EventRow>(
        "SELECT seq, type, source, at, v, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        after,
        limit,
      )
      .toArray()
      .map(rowToEvent);
  }

  /** The events of these types, oldest first: a run's output events are most of its log. */
  ofTypes(types: readonly RunEventType[]): RunEvent[] {
    if (types.length === 0) return [];
    return this.#sql
      .exec<EventRow>(
        `SELECT seq, type, source, at, v, payload FROM events WHERE type IN (${types.map(() => "?").join(", ")}) ORDER BY seq`,
        ...types,
      )
      .toArray()
      .map(rowToEvent);
  }

  all(): RunEvent[] {
    return this.#sql
      .exec<EventRow>("SELECT seq, type, source, at, v, payload FROM events ORDER BY seq")
      .toArray()
      .map(rowToEvent);
  }
}
