import { backoffDelay } from "@edgeswarm/shared";
/** Something the pool keeps ready; `ended` resolves if it dies while it waits. */
export interface PoolItem {
  readonly ended: Promise<void>;
}

export interface WarmPoolOptions<T extends PoolItem> {
  create(key: string): Promise<T>;
  destroy(item: T): Promise<unknown>;
  /** Most creations in flight at once, over all keys. */
  parallelism: number;
  /** A creation failed; the key pauses (1 s, doubling to 30 s) before it tries again. */
  onError(key: string, err: unknown): void;
}

const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * Keeps up to a target number of single-use items ready per key, refilling in
 * the background with bounded parallelism. `take` never waits: an empty pool
 * answers undefined and the caller makes its own.
 */
export class WarmPool<T extends PoolItem> {
  readonly #opts: WarmPoolOptions<T>;
  readonly #targets = new Map<string, number>();
  readonly #idle = new Map<string, Set<T>>();
  readonly #creating = new Map<string, number>();
  /** Items taken whose replacement waits until their use ends (see take). */
  readonly #deferred = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  readonly #paused = new Map<string, NodeJS.Timeout>();
  readonly #pending = new Set<Promise<unknown>>();
  #inFlight = 0;
  #closed = false;

  constructor(options: WarmPoolOptions<T>) {
    this.#opts = options;
  }

  /** Sets how many items to keep ready for `key` (0 stops warming it). */
  setSize(key: string, size: number): void {
    this.#targets.set(key, size);
    this.#fill();
  }

  /**
   * An item ready now, removed from the pool; undefined when none is. Its
   * replacement is made once `inUse` settles, so that making it does not
   * compete with the item's use; without `inUse`, at once.
   */
  take(key: string, inUse?: Promise<unknown>): T | undefined {
    const idle = this.#idle.get(key);
    const item = idle?.values().next().value;
    if (!idle || item === undefined) return undefined;
    idle.delete(item);
    if (inUse) {
      this.#deferred.set(key, (this.#deferred.get(key) ?? 0) + 1);
      void inUse
        .catch(() => {})
        .finally(() => {
          this.#deferred.set(key, (this.#deferred.get(key) ?? 1) - 1);
          this.#fill();
        });
    }
    this.#fill();
    return item;
  }

  /** Items ready now, over all keys. */
  get ready(): number {
    let n = 0;
    for (const idle of this.#idle.values()) n += idle.size;
    return n;
  }

  /** Stops refilling, waits for creations in flight and destroys every item it holds. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#paused.values()) clearTimeout(timer);
    this.#paused.clear();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    // Emptied, not just dropped: an item's `ended` watcher holds its set, and
    // must not destroy it a second time when the destroy below ends it.
    const items = [...this.#idle.values()].flatMap((idle) => {
      const list = [...idle];
      idle.clear();
      return list;
    });
    this.#idle.clear();
    await Promise.allSettled(items.map((item) => this.#opts.destroy(item)));
  }

  #fill(): void {
    if (this.#closed) return;
    for (const [key, target] of this.#targets) {
      while (
        this.#inFlight < this.#opts.parallelism &&
        !this.#paused.has(key) &&
        (this.#idle.get(key)?.size ?? 0) + (this.#creating.get(key) ?? 0) + (this.#deferred.get(key) ?? 0) < target
      ) {
        this.#create(key);
      }
    }
  }

  #create(key: string): void {
    this.#inFlight += 1;
    this.#creating.set(key, (this.#creating.get(key) ?? 0) + 1);
    const work = this.#opts.create(key).then(
      (item) => this.#created(key, item),
      (err: unknown) => this.#failed(key, err),
    );
    this.#pending.add(work);
    work.finally(() => {
      this.#pending.delete(work);
      this.#inFlight -= 1;
      this.#creating.set(key, (this.#creating.get(key) ?? 1) - 1);
      this.#fill();
    });
  }

  #created(key: string, item: T): void {
    this.#failures.delete(key);
    if (this.#closed || (this.#targets.get(key) ?? 0) === 0) {
      this.#track(this.#opts.destroy(item));
      return;
    }
    const pool = this.#idle.get(key) ?? new Set<T>();
    this.#idle.set(key, pool);
    pool.add(item);
    // Died while waiting (a daemon restart, a killed container): replace it.
    void item.ended.then(() => {
      if (!pool.delete(item)) return; // taken meanwhile: its user handles the end
      this.#track(this.#opts.destroy(item));
      this.#fill();
    });
  }

  #failed(key: string, err: unknown): void {
    try {
      this.#opts.onError(key, err);
    } catch {
      // A failing reporter must not stop the pool.
    }
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    if (this.#closed) return;
    // One pause per key: creations in flight together fail together, and a
    // second timer left running would end the newer, longer pause early.
    clearTimeout(this.#paused.get(key));
    const delay = backoffDelay(failures - 1, { baseMs: RETRY_FIRST_MS, maxMs: RETRY_MAX_MS, jitter: 0 });
    const timer = setTimeout(() => {
      this.#paused.delete(key);
      this.#fill();
    }, delay);
    timer.unref();
    this.#paused.set(key, timer);
  }

  #track(work: Promise<unknown>): void {
    const settled = work.catch(() => {});
    this.#pending.add(settled);
    void settled.finally(() => this.#pending.delete(settled));
  }
}
