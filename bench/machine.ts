import { readFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, release, totalmem, type } from "node:os";
import { docker } from "./docker.ts";

/** What the figures were measured on; without it they cannot be compared. */
export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  kernel: string;
  docker: string;
  node: string;
  /** The 1-minute load average when the bench started: other work on the machine shows in every figure. */
  loadAvg1m: number;
}

/** The host's 1-minute load average now, to 0.01. */
export function loadNow(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

const startLoad = loadNow();

export async function machineInfo(): Promise<Machine> {
  const cpuinfo = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  // Some CPUs (many ARM ones) have no "model name" line; os.cpus() guesses then.
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
  const version = await docker.version();
  return {
    cpu,
    cores: availableParallelism(),
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${type()} ${release()}`,
    docker: version.Version,
    node: process.version,
    loadAvg1m: startLoad,
  };
}
