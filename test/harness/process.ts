import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { LineLog } from "./wait.ts";

/** A child process of the test, its merged output, and ways to end it. */
export class Proc {
  readonly child: ChildProcess;
  readonly log = new LineLog();
  readonly exited: Promise<number | null>;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
    // detached: the process leads its own group, so stop() also ends what it spawned (workerd).
    this.child = spawn(command, args, { env, cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.setEncoding("utf8").on("data", (d: string) => this.log.push(d));
    this.child.stderr?.setEncoding("utf8").on("data", (d: string) => this.log.push(d));
    this.exited = once(this.child, "exit").then(([code]) => code as number | null);
    if (process.env.EDGESWARM_TEST_VERBOSE) this.log.onLine((l) => process.stderr.write(`[${command}] ${l}\n`));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` to the whole process group and waits for the exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.running && this.child.pid) {
      try {
        process.kill(-this.child.pid, signal);
      } catch {
        // already gone
      }
    }
    return this.exited;
  }
}
