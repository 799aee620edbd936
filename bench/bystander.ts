import { join } from "node:path";
import type { AgentHealth } from "@edgeswarm/shared";
import { ROOT } from "../scripts/lib/paths.ts";
import { Proc } from "../scripts/lib/process.ts";
import type { HealthWindow } from "../test/harness/fake-worker.ts";

/**
 * A bare Node process beside the load (bystander-main.ts), measuring its own
 * event-loop delay the way the agent does. Its windows are the baseline for the
 * agent's: what any process on this host waits to be scheduled.
 */
export class Bystander {
  readonly windows: HealthWindow[] = [];
  readonly #proc: Proc;

  private constructor(proc: Proc) {
    this.#proc = proc;
    proc.log.onLine((line) => {
      if (!line.startsWith("{")) return;
      this.windows.push({ at: performance.now(), health: JSON.parse(line) as AgentHealth });
    });
  }

  static start(): Bystander {
    return new Bystander(new Proc(process.execPath, [join(ROOT, "bench", "bystander-main.ts")], process.env, ROOT));
  }

  async stop(): Promise<void> {
    await this.#proc.stop("SIGTERM");
  }
}
