import type { WebhookEventType, WebhookStatus } from "@edgeswarm/shared";

/** A run's one delivery, as the outbox works with it. */
export interface Delivery {
  id: string;
  url: string;
  type: WebhookEventType;
  /** The exact body every attempt sends. */
  body: string;
  createdAt: string;
  state: WebhookStatus["state"];
  attempts: number;
  /** When the next attempt is due (ms since the epoch); null once delivered or failed. */
  nextAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
}

/** What a new delivery is made of. */
type NewDelivery = Pick<Delivery, "id" | "url" | "type" | "body" | "createdAt" | "nextAt">;

/** The stored row; converted by {@link rowToDelivery}, never handed out as is. */
interface DeliveryRow {
  id: string;
  url: string;
  type: string;
  body: string;
  created_at: string;
  state: string;
  attempts: number;
  next_at: number | null;
  last_status: number | null;
  last_error: string | null;
  [key: string]: SqlStorageValue;
}

function rowToDelivery(row: DeliveryRow): Delivery {
  // Rows were written by this class from typed values; this only restores the shape.
  return {
    id: row.id,
    url: row.url,
    type: row.type as WebhookEventType,
    body: row.body,
    createdAt: row.created_at,
    state: row.state as WebhookStatus["state"],
    attempts: row.attempts,
    nextAt: row.next_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
  };
}

/**
 * The run's webhook delivery in the Durable Object's SQLite storage. The table
 * holds at most one row (`slot` is always 1), so a run can never get a second
 * delivery, whatever calls {@link create} again; only a continued run's next
 * end {@link replace}s it.
 */
export class DeliveryStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS webhook_delivery (
      slot INTEGER PRIMARY KEY CHECK (slot = 1),
      id TEXT NOT NULL,
      url TEXT NOT NULL,
      type TEXT NOT NULL,
      body TEXT NOT NULL,
      created_at TEXT NOT NULL,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      next_at INTEGER,
      last_status INTEGER,
      last_error TEXT
    )`);
  }

  get(): Delivery | null {
    const row = this.#sql.exec<DeliveryRow>("SELECT * FROM webhook_delivery WHERE slot = 1").toArray()[0];
    return row ? rowToDelivery(row) : null;
  }

  /** Stores the run's delivery, due at `nextAt`; false (and nothing stored) if it has one already. */
  create(d: NewDelivery): boolean {
    return this.#insert("INSERT OR IGNORE", d);
  }

  /** Puts `d` in the place of the run's delivery, due at `nextAt`, with no attempts yet. */
  replace(d: NewDelivery): void {
    this.#insert("INSERT OR REPLACE", d);
  }

  #insert(verb: "INSERT OR IGNORE" | "INSERT OR REPLACE", d: NewDelivery): boolean {
    const cursor = this.#sql.exec(
      `${verb} INTO webhook_delivery (slot, id, url, type, body, created_at, state, attempts, next_at)
       VALUES (1, ?, ?, ?, ?, ?, 'pending', 0, ?)`,
      d.id,
      d.url,
      d.type,
      d.body,
      d.createdAt,
      d.nextAt,
    );
    return cursor.rowsWritten > 0;
  }

  /** Counts an attempt before it is made, due again at `watchdogAt` should this object die during it. */
  begin(watchdogAt: number): number {
    this.#sql.exec("UPDATE webhook_delivery SET attempts = attempts + 1, next_at = ? WHERE slot = 1", watchdogAt);
    return this.get()?.attempts ?? 0;
  }

  /** Records how delivery `id`'s attempt went and what follows (nothing, if it was replaced meanwhile). */
  settle(id: string, update: Pick<Delivery, "state" | "nextAt" | "lastStatus" | "lastError">): void {
    this.#sql.exec(
      "UPDATE webhook_delivery SET state = ?, next_at = ?, last_status = ?, last_error = ? WHERE slot = 1 AND id = ?",
      update.state,
      update.nextAt,
      update.lastStatus,
      update.lastError,
      id,
    );
  }
}
