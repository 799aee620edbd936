import { describe, expect, it } from "vitest";
import { FairQueue } from "./queue.ts";

interface Entry {
  id: string;
  tenant: string;
  language: string;
}

const entry = (tenant: string, n: number, language = "python"): Entry => ({ id: `${tenant}${n}`, tenant, language });
const all = () => true;
const kind = (e: Entry) => e.language;

function drain(queue: FairQueue<Entry>, fits: (e: Entry) => boolean = all): string[] {
  const out: string[] = [];
  for (let e = queue.take(all, fits, kind); e; e = queue.take(all, fits, kind)) out.push(e.id);
  return out;
}

describe("the fair queue", () => {
  it("serves tenants in turn and each tenant in arrival order", () => {
    const queue = new FairQueue<Entry>();
    for (let i = 1; i <= 4; i++) queue.add(entry("a", i));
    queue.add(entry("b", 1));
    queue.add(entry("c", 1));
    queue.add(entry("b", 2));
    expect(drain(queue)).toEqual(["a1", "b1", "c1", "a2", "b2", "a3", "a4"]);
    expect(queue.size).toBe(0);
  });

  it("puts a tenant that arrives during another's burst next after the burst's current entry", () => {
    const queue = new FairQueue<Entry>();
    for (let i = 1; i <= 200; i++) queue.add(entry("a", i));
    expect(queue.take(all, all, kind)?.id).toBe("a1");
    expect(queue.add(entry("b", 1))).toBe(1);
    expect(queue.take(all, all, kind)?.id).toBe("b1");
    expect(queue.take(all, all, kind)?.id).toBe("a2");
  });

  it("remembers a turn given at once: the burst's second entry waits behind a tenant not served yet", () => {
    const queue = new FairQueue<Entry>();
    queue.add(entry("a", 1));
    expect(queue.take(all, all, kind)?.id).toBe("a1"); // served at once: its line is empty again
    queue.add(entry("a", 2));
    queue.add(entry("b", 1));
    expect(drain(queue)).toEqual(["b1", "a2"]);
  });

  it("skips what does not fit without losing its place, and tenants that may not run", () => {
    const queue = new FairQueue<Entry>();
    queue.add(entry("a", 1, "node"));
    queue.add(entry("a", 2));
    queue.add(entry("b", 1));
    const python = (e: Entry) => e.language === "python";
    expect(queue.take(all, python, kind)?.id).toBe("a2");
    expect(queue.take((t) => t !== "b", python, kind)).toBeUndefined();
    expect(queue.take(all, python, kind)?.id).toBe("b1");
    expect(drain(queue)).toEqual(["a1"]);
  });

  it("asks once per kind in a pass", () => {
    const queue = new FairQueue<Entry>();
    for (let i = 1; i <= 1000; i++) queue.add(entry("a", i, "node"));
    let asked = 0;
    expect(
      queue.take(
        all,
        () => {
          asked++;
          return false;
        },
        kind,
      ),
    ).toBeUndefined();
    expect(asked).toBe(1);
  });

  it("takes out entries that leave, and counts each tenant's", () => {
    const queue = new FairQueue<Entry>();
    const a1 = entry("a", 1);
    queue.add(a1);
    queue.add(entry("a", 2));
    expect(queue.countOf("a")).toBe(2);
    expect(queue.remove(a1)).toBe(true);
    expect(queue.remove(a1)).toBe(false);
    expect(queue.countOf("a")).toBe(1);
    expect(drain(queue)).toEqual(["a2"]);
  });

  it("estimates each entry's position from the rotation", () => {
    const queue = new FairQueue<Entry>();
    expect([1, 2, 3].map((i) => queue.add(entry("a", i)))).toEqual([1, 2, 3]);
    expect(queue.add(entry("b", 1))).toBe(2);
    expect(queue.add(entry("b", 2))).toBe(4);
    // a1 b1 a2 b2 a3
    expect([1, 2, 3].map((i) => queue.position(entry("a", i)))).toEqual([1, 3, 5]);
    expect([1, 2].map((i) => queue.position(entry("b", i)))).toEqual([2, 4]);
    expect(queue.position(entry("c", 1))).toBe(0);
  });
});
