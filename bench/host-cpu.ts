import { readFile } from "node:fs/promises";

// CPU accounting from /proc (read only), to say where the machine's CPU went
// during a throughput phase: how busy the host was, and how much of it the
// agent process itself used.

/** Cumulative CPU time of the whole host from /proc/stat, in clock ticks: busy and total. */
export interface HostCpu {
  busy: number;
  total: number;
}

export async function hostCpu(): Promise<HostCpu> {
  const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** The share (0 to 1) of all the host's CPUs that was busy between two readings. */
export function busyShare(from: HostCpu, to: HostCpu): number {
  const total = to.total - from.total;
  return total > 0 ? (to.busy - from.busy) / total : 0;
}

/** Linux reports process times in USER_HZ ticks, 100 a second on every common architecture. */
const USER_HZ = 100;

/** A process's CPU time so far (all its threads, user and system) in ms, from /proc/<pid>/stat. */
export async function processCpuMs(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8");
  // After "pid (comm) ", fields start at state (3rd); utime and stime are the 14th and 15th.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}
