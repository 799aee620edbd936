import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { basename } from "node:path";
import { LineLog, within } from "./wait.ts";

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The child processes that have not exited yet, so a failing test can show what they said. */
export const runningProcs: ReadonlySet<Proc> = new Set<Proc>();

/** A child process of the test, its merged output, and ways to end it. */
export class Proc {
  /** The command line, for humans: paths of the program and its script shortened to their names. */
  readonly name: string;
  readonly child: ChildProcess;
  readonly log = new LineLog();
  readonly exited: Promise<number | null>;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
    // detached: the process leads its own group, so stop() also ends what it spawned (workerd).
    this.child = spawn(command, args, { env, cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.setEncoding("utf8").on("data", (d: string) => this.log.push(d));
    this.child.stderr?.setEncoding("utf8").on("data", (d: string) => this.log.push(d));
    this.name = [basename(command), ...args.map((a, i) => (i === 0 && a.startsWith("/") ? basename(a) : a))].join(" ");
    (runningProcs as Set<Proc>).add(this);
    this.exited = once(this.child, "exit").then(([code]) => {
      (runningProcs as Set<Proc>).delete(this);
      return code as number | null;
    });
    if (process.env.EDGESWARM_TEST_VERBOSE) this.log.onLine((l) => process.stderr.write(`[${command}] ${l}\n`));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` to the process group without waiting (SIGSTOP, SIGCONT, ...). */
  signal(signal: NodeJS.Signals): void {
    if (this.child.pid && this.running) process.kill(-this.child.pid, signal);
  }

  /**
   * Sends `signal` to the whole process group and waits until every process in
   * it has exited (wrangler's workerd child too: a new one must not find the old
   * one still holding the port and the SQLite state).
   */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<number | null> {
    const pgid = this.child.pid;
    if (!pgid) return this.exited;
    if (!groupAlive(pgid)) return this.exited;
    process.kill(-pgid, signal);
    const deadline = Date.now() + timeoutMs;
    const code = await within(this.exited, timeoutMs, `${this.name} to exit`).catch(() => "late" as const);
    // Processes outside our own children give no exit event; poll the group, bounded.
    while (groupAlive(pgid)) {
      if (code === "late" || Date.now() > deadline) process.kill(-pgid, "SIGKILL");
      if (Date.now() > deadline + 5_000) throw new Error(`process group ${pgid} did not exit`);
      await new Promise((r) => setTimeout(r, 20));
    }
    if (code === "late") {
      const last = this.log.all.slice(-15).join("\n");
      throw new Error(
        `${this.name} did not exit within ${timeoutMs} ms of ${signal}, so was killed; last output:\n${last}`,
      );
    }
    return code;
  }
}
