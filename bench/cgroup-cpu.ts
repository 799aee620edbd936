import { readFile } from "node:fs/promises";

// A container's CPU time from its cgroup, read (never written) under
// /sys/fs/cgroup. Docker's `start` event comes before a warm sandbox is
// quiet: its runner and the interpreter it pre-starts go on using CPU for tens
// of ms. The bench waits, untimed, until they stop, so that start-up does not
// run inside whichever timed run comes next.

/** Where the engine may keep a container's CPU counter: cgroup v1 (cgroupfs, systemd), then v2. */
const PLACES = [
  (id: string) => ({ path: `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, v2: false }),
  (id: string) => ({ path: `/sys/fs/cgroup/cpuacct/system.slice/docker-${id}.scope/cpuacct.usage`, v2: false }),
  (id: string) => ({ path: `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, v2: true }),
  (id: string) => ({ path: `/sys/fs/cgroup/docker/${id}/cpu.stat`, v2: true }),
];

/** A container's CPU time so far in ns, or undefined when no counter of it can be read. */
export async function containerCpuNs(id: string): Promise<number | undefined> {
  for (const place of PLACES) {
    const { path, v2 } = place(id);
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    if (!v2) return Number(text.trim());
    const usec = /^usage_usec (\d+)$/m.exec(text)?.[1];
    if (usec !== undefined) return Number(usec) * 1000;
  }
  return undefined;
}

/** Readings this long with (almost) no CPU used between them: the containers are idle (by default). */
const QUIET_MS = 20;
const STEP_MS = 5;
/** CPU time per step that still counts as idle (a stray timer tick), in ns: 1% of a core. */
const NOISE_NS = (STEP_MS * 1e6) / 100;

/**
 * Waits until the containers `ids` have used (almost) no CPU for `quietMs`,
 * reading their counters every {@link STEP_MS}. Resolves "idle"; "unreadable"
 * at once when their counters cannot be read here; "gone" if one went
 * meanwhile (the caller looks again); "busy" if still busy after `timeoutMs`.
 */
export async function untilIdle(
  ids: readonly string[],
  timeoutMs: number,
  signal: AbortSignal,
  quietMs = QUIET_MS,
): Promise<"idle" | "unreadable" | "gone" | "busy"> {
  const total = async () => {
    const each = await Promise.all(ids.map(containerCpuNs));
    return each.some((x) => x === undefined) ? undefined : each.reduce<number>((a, b) => a + (b ?? 0), 0);
  };
  const deadline = performance.now() + timeoutMs;
  let last = await total();
  if (last === undefined) return "unreadable";
  let quietSince = performance.now();
  while (performance.now() - quietSince < quietMs) {
    signal.throwIfAborted();
    if (performance.now() > deadline) return "busy";
    await new Promise((resolve) => setTimeout(resolve, STEP_MS));
    const now = await total();
    if (now === undefined) return "gone";
    if (now - last > NOISE_NS) quietSince = performance.now();
    last = now;
  }
  return "idle";
}
