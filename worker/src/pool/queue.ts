/** What the queue needs of an entry: its id and its tenant. */
export interface Queued {
  readonly id: string;
  readonly tenant: string;
}

/** One tenant's line, and when it was last served. */
interface Line<T> {
  fifo: Map<string, T>;
  /** The serve counter when it was last served; 0 for a tenant not served since it began waiting. */
  servedAt: number;
  /** The order tenants began waiting in, for ties. */
  joined: number;
}

/**
 * A pool's waiting executions: FIFO within a tenant, round-robin between
 * tenants. Tenants are served least recently served first, and a tenant that
 * was never served goes before every one that was, so one tenant's burst
 * waits behind everyone else's next entry, never the other way round. Pure: the PoolDO
 * decides what may be taken, this decides in which order.
 */
/** Tenants whose last turn is remembered after their line emptied (the oldest are forgotten first). */
const REMEMBERED_TENANTS = 4_096;

export class FairQueue<T extends Queued> {
  readonly #lines = new Map<string, Line<T>>();
  /**
   * When each tenant was last served, kept after its line empties: a tenant
   * served at once (no line at all), whose next one then waits, still has its
   * turn counted, so it does not go ahead of one that had no turn yet.
   */
  readonly #lastServed = new Map<string, number>();
  #size = 0;
  #served = 0;
  #joined = 0;

  get size(): number {
    return this.#size;
  }

  /** Entries waiting for `tenant`. */
  countOf(tenant: string): number {
    return this.#lines.get(tenant)?.fifo.size ?? 0;
  }

  /** Adds an entry at the end of its tenant's line; answers its position (see {@link position}). */
  add(entry: T): number {
    let line = this.#lines.get(entry.tenant);
    if (!line) {
      line = { fifo: new Map(), servedAt: this.#lastServed.get(entry.tenant) ?? 0, joined: ++this.#joined };
      this.#lines.set(entry.tenant, line);
    }
    line.fifo.set(entry.id, entry);
    this.#size++;
    return this.#positionAt(entry.tenant, line.fifo.size - 1);
  }

  /**
   * Puts an entry back at the head of its tenant's line, as if it had never
   * left (the agent it went to never took it).
   */
  requeue(entry: T): void {
    const line = this.#lines.get(entry.tenant);
    if (!line) {
      const servedAt = this.#lastServed.get(entry.tenant) ?? 0;
      this.#lines.set(entry.tenant, { fifo: new Map([[entry.id, entry]]), servedAt, joined: ++this.#joined });
    } else {
      line.fifo = new Map([[entry.id, entry], ...line.fifo]);
    }
    this.#size++;
  }

  /** Takes an entry out (its caller left, or it timed out); false if it was not there. */
  remove(entry: T): boolean {
    const line = this.#lines.get(entry.tenant);
    if (!line?.fifo.delete(entry.id)) return false;
    this.#size--;
    if (line.fifo.size === 0) this.#lines.delete(entry.tenant);
    return true;
  }

  #remember(tenant: string, servedAt: number): void {
    this.#lastServed.delete(tenant); // re-inserted: the map's order is the order of last service
    this.#lastServed.set(tenant, servedAt);
    if (this.#lastServed.size > REMEMBERED_TENANTS) {
      this.#lastServed.delete(this.#lastServed.keys().next().value as string);
    }
  }

  /** Tenants in the order they are served. */
  #rotation(): [string, Line<T>][] {
    return [...this.#lines].sort(([, a], [, b]) => a.servedAt - b.servedAt || a.joined - b.joined);
  }

  /**
   * Takes the next entry to serve: tenants in rotation order, each tenant's
   * oldest entry that `fits` accepts (a tenant `tenantMayRun` refuses is
   * skipped). `kindOf` groups entries that fit or not together (the same
   * language and shape), so a refused kind is not asked again in this pass.
   */
  take(
    tenantMayRun: (tenant: string) => boolean,
    fits: (entry: T) => boolean,
    kindOf: (entry: T) => string,
  ): T | undefined {
    const refused = new Set<string>();
    for (const [tenant, line] of this.#rotation()) {
      if (!tenantMayRun(tenant)) continue;
      for (const entry of line.fifo.values()) {
        const kind = kindOf(entry);
        if (refused.has(kind)) continue;
        if (!fits(entry)) {
          refused.add(kind);
          continue;
        }
        line.fifo.delete(entry.id);
        this.#size--;
        line.servedAt = ++this.#served;
        this.#remember(tenant, line.servedAt);
        if (line.fifo.size === 0) this.#lines.delete(tenant);
        return entry;
      }
    }
    return undefined;
  }

  /**
   * Where `entry` stands (0 if it is not waiting), 1 = served next, if nothing else arrives and every
   * entry fits: its own place in its tenant's line, plus, from each other
   * tenant, one entry per round before it.
   */
  position(entry: T): number {
    const own = this.#lines.get(entry.tenant);
    if (!own?.fifo.has(entry.id)) return 0;
    let index = 0;
    for (const id of own.fifo.keys()) {
      if (id === entry.id) break;
      index++;
    }
    return this.#positionAt(entry.tenant, index);
  }

  #positionAt(tenant: string, index: number): number {
    let ahead = index;
    let before = true; // tenants before this one in the rotation are served first in each round
    for (const [other, line] of this.#rotation()) {
      if (other === tenant) {
        before = false;
        continue;
      }
      ahead += Math.min(line.fifo.size, index + (before ? 1 : 0));
    }
    return ahead + 1;
  }
}
