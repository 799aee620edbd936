import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type PoolItem, WarmPool } from "./warm-pool.ts";

/** A pool item whose death the test decides. */
class Item implements PoolItem {
  static next = 0;
  readonly id = ++Item.next;
  readonly key: string;
  readonly ended: Promise<void>;
  readonly die: () => void;

  constructor(key: string) {
    this.key = key;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.ended = promise;
    this.die = () => resolve();
  }
}

/** One create() call the test settles by hand. */
interface Creation {
  key: string;
  at: number;
  done: boolean;
  succeed(): Item;
  fail(err?: unknown): void;
}

/**
 * A pool over fake items. `mode` says how create() answers: at once with an
 * item, at once with an error, or left pending in `creations` for the test.
 */
function harness(opts: { parallelism?: number; mode?: "ok" | "fail" | "manual" } = {}) {
  const mode = opts.mode ?? "ok";
  const creations: Creation[] = [];
  const created: Item[] = [];
  const destroyed: Item[] = [];
  const errors: { key: string; err: unknown }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const pool = new WarmPool<Item>({
    parallelism: opts.parallelism ?? 4,
    create(key) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const { promise, resolve, reject } = Promise.withResolvers<Item>();
      const creation: Creation = {
        key,
        at: Date.now(),
        done: false,
        succeed() {
          creation.done = true;
          const item = new Item(key);
          created.push(item);
          inFlight -= 1;
          resolve(item);
          return item;
        },
        fail(err = new Error(`cannot make ${key}`)) {
          creation.done = true;
          inFlight -= 1;
          reject(err);
        },
      };
      creations.push(creation);
      if (mode === "ok") creation.succeed();
      if (mode === "fail") creation.fail();
      return promise;
    },
    async destroy(item) {
      destroyed.push(item);
      item.die(); // as a removed container's stream ends
    },
    onError(key, err) {
      errors.push({ key, err });
    },
  });
  return {
    pool,
    creations,
    created,
    destroyed,
    errors,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

/** Lets every settled promise's callbacks run (the pool reacts in microtasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

describe("WarmPool", () => {
  it("fills each key to its size and stops there", async () => {
    const h = harness();
    h.pool.setSize("a", 3);
    h.pool.setSize("b", 2);
    await settle();
    expect(h.pool.ready).toBe(5);
    expect(h.creations.map((c) => c.key).sort()).toEqual(["a", "a", "a", "b", "b"]);
    await settle();
    expect(h.creations).toHaveLength(5); // full: nothing more is made
    expect(h.destroyed).toEqual([]);
  });

  it("never has more creations in flight than its parallelism, over all keys", async () => {
    const h = harness({ parallelism: 2, mode: "manual" });
    h.pool.setSize("a", 4);
    h.pool.setSize("b", 3);
    expect(h.creations).toHaveLength(2);
    for (let step = 0; step < 20 && h.pool.ready < 7; step += 1) {
      const oldest = h.creations.find((c) => !c.done);
      expect(oldest).toBeDefined();
      oldest?.succeed();
      await settle();
      expect(h.inFlight).toBe(Math.min(2, 7 - h.pool.ready));
    }
    expect(h.pool.ready).toBe(7);
    expect(h.creations).toHaveLength(7);
    expect(h.maxInFlight).toBe(2);
  });

  it("answers undefined from take when nothing is ready, without waiting", async () => {
    const h = harness({ mode: "manual" });
    expect(h.pool.take("never-sized")).toBeUndefined();
    h.pool.setSize("a", 1);
    expect(h.pool.take("a")).toBeUndefined(); // still being made
    h.creations[0]?.succeed();
    await settle();
    const item = h.pool.take("a");
    expect(item?.key).toBe("a");
    expect(h.pool.take("a")).toBeUndefined(); // the refill is only in flight
  });

  it("hands each item out once and refills behind it", async () => {
    const h = harness();
    h.pool.setSize("a", 2);
    await settle();
    const first = h.pool.take("a");
    const second = h.pool.take("a");
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(first).not.toBe(second);
    await settle();
    expect(h.pool.ready).toBe(2);
    expect(h.creations).toHaveLength(4);
    const third = h.pool.take("a");
    expect([first, second]).not.toContain(third);
    expect(h.destroyed).toEqual([]); // taken items belong to their taker
  });

  it("makes a replacement only once the taken item's use has ended, when told to wait", async () => {
    const h = harness({ parallelism: 4 });
    h.pool.setSize("a", 2);
    await settle();
    const use = Promise.withResolvers<void>();
    expect(h.pool.take("a", use.promise)).toBeDefined();
    await settle();
    expect(h.creations).toHaveLength(2); // nothing made beside the use
    expect(h.pool.take("a")).toBeDefined(); // no promise: replaced at once
    await settle();
    expect(h.creations).toHaveLength(3);
    use.reject(new Error("the execution failed")); // an ended use, however it ended
    await settle();
    expect(h.creations).toHaveLength(4);
    expect(h.pool.ready).toBe(2);
  });

  it("leaves a taken item alone when it ends", async () => {
    const h = harness();
    h.pool.setSize("a", 1);
    await settle();
    const item = h.pool.take("a") as Item;
    await settle();
    item.die();
    await settle();
    expect(h.destroyed).toEqual([]);
    expect(h.pool.ready).toBe(1);
    expect(h.creations).toHaveLength(2);
  });

  it("destroys and replaces an item that ends while it waits", async () => {
    const h = harness();
    h.pool.setSize("a", 2);
    await settle();
    const [dead, alive] = h.created as [Item, Item];
    dead.die();
    await settle();
    expect(h.destroyed).toEqual([dead]);
    expect(h.pool.ready).toBe(2);
    expect(h.creations).toHaveLength(3);
    const handed = [h.pool.take("a"), h.pool.take("a")];
    expect(handed).toContain(alive);
    expect(handed).not.toContain(dead);
  });

  it("stops warming a key sized 0, and destroys what was still being made for it", async () => {
    const h = harness({ mode: "manual" });
    h.pool.setSize("a", 1);
    h.pool.setSize("a", 0);
    const late = h.creations[0]?.succeed();
    await settle();
    expect(h.destroyed).toEqual([late]);
    expect(h.pool.ready).toBe(0);
    expect(h.creations).toHaveLength(1);
  });

  describe("after a failed creation", () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: 0 });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("reports it and retries after 1 s, doubling to 30 s", async () => {
      const h = harness({ mode: "fail" });
      h.pool.setSize("a", 1);
      await settle();
      for (let i = 0; i < 10; i += 1) {
        await vi.advanceTimersByTimeAsync(1_000);
        await settle();
      }
      await vi.advanceTimersByTimeAsync(100_000 - 10_000);
      expect(h.creations.map((c) => c.at)).toEqual([0, 1_000, 3_000, 7_000, 15_000, 31_000, 61_000, 91_000]);
      expect(h.errors).toHaveLength(8);
      expect(h.errors[0]?.key).toBe("a");
      expect(h.errors[0]?.err).toEqual(new Error("cannot make a"));
      expect(h.pool.ready).toBe(0);
    });

    it("does not multiply its retries when several creations of a key fail together", async () => {
      const h = harness({ mode: "fail", parallelism: 4 });
      h.pool.setSize("a", 3);
      await vi.advanceTimersByTimeAsync(10 * 60_000);
      const rounds = [...new Set(h.creations.map((c) => c.at))];
      // Each round is at most one creation per wanted item...
      for (const at of rounds) expect(h.creations.filter((c) => c.at === at).length).toBeLessThanOrEqual(3);
      // ...and rounds only ever get further apart, never closer than 1 s nor further than 30 s.
      const gaps = rounds.slice(1).map((at, i) => at - (rounds[i] as number));
      for (const [i, gap] of gaps.entries()) {
        expect(gap).toBeGreaterThanOrEqual(1_000);
        expect(gap).toBeLessThanOrEqual(30_000);
        if (i > 0) expect(gap).toBeGreaterThanOrEqual(gaps[i - 1] as number);
      }
      expect(rounds.length).toBeLessThanOrEqual(25); // ten minutes at 30 s, plus the ramp
      expect(vi.getTimerCount()).toBe(1); // one pending retry, not one per failure
    });

    it("starts again from 1 s after a success", async () => {
      const h = harness({ mode: "manual" });
      h.pool.setSize("a", 1);
      h.creations[0]?.fail();
      await vi.advanceTimersByTimeAsync(1_000); // retry 1
      h.creations[1]?.fail();
      await vi.advanceTimersByTimeAsync(2_000); // retry 2
      expect(h.creations).toHaveLength(3);
      h.creations[2]?.succeed();
      await settle();
      h.pool.take("a"); // makes the pool create again
      expect(h.creations).toHaveLength(4);
      h.creations[3]?.fail();
      await vi.advanceTimersByTimeAsync(999);
      expect(h.creations).toHaveLength(4);
      await vi.advanceTimersByTimeAsync(1);
      expect(h.creations).toHaveLength(5);
    });

    it("keeps warming other keys while one fails", async () => {
      const h = harness({ mode: "manual", parallelism: 2 });
      h.pool.setSize("bad", 1);
      h.pool.setSize("good", 2);
      h.creations.find((c) => c.key === "bad")?.fail();
      await settle();
      for (const c of h.creations.filter((c) => c.key === "good")) c.succeed();
      await settle();
      for (const c of h.creations.filter((c) => c.key === "good").slice(1)) c.succeed();
      await settle();
      expect(h.pool.ready).toBe(2);
      expect(h.pool.take("bad")).toBeUndefined();
      expect(h.pool.take("good")).toBeDefined();
    });

    it("schedules no retry once closed", async () => {
      const h = harness({ mode: "manual" });
      h.pool.setSize("a", 1);
      const closing = h.pool.close();
      h.creations[0]?.fail();
      await closing;
      expect(h.errors).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(h.creations).toHaveLength(1);
    });
  });

  it("closes by destroying its idle items and those finishing creation, each once", async () => {
    const h = harness({ mode: "manual", parallelism: 4 });
    h.pool.setSize("a", 3);
    const idle = h.creations[0]?.succeed() as Item;
    await settle();
    expect(h.pool.ready).toBe(1);
    let closed = false;
    const closing = h.pool.close().then(() => {
      closed = true;
    });
    await settle();
    expect(closed).toBe(false); // waits for the creations in flight
    const late = h.creations[1]?.succeed() as Item;
    await settle();
    expect(closed).toBe(false);
    h.creations[2]?.fail();
    await closing;
    expect(h.destroyed.sort((x, y) => x.id - y.id)).toEqual([idle, late]);
    expect(h.pool.ready).toBe(0);
    expect(h.pool.take("a")).toBeUndefined();
    // Their ends arrive after close (the destroy made them end): nothing is destroyed twice or remade.
    await settle();
    expect(h.destroyed).toHaveLength(2);
    expect(h.creations).toHaveLength(3);
    h.pool.setSize("a", 5);
    await settle();
    expect(h.creations).toHaveLength(3);
  });
});
