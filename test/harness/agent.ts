import { AGENT_BIN, ROOT } from "../../scripts/lib/paths.ts";
import { Proc } from "../../scripts/lib/process.ts";
import { waitForLine } from "../../scripts/lib/wait.ts";

export interface AgentOptions {
  url: string;
  token: string;
  id: string;
  capacity?: number;
  pool?: string;
  /** Extra environment for the agent process itself (never for its sandboxes). */
  env?: Record<string, string>;
  args?: string[];
}

/** A real sandbox agent process (`edgeswarm-agent`), as an operator would run it. */
export class AgentProcess {
  readonly options: AgentOptions;
  proc: Proc;

  private constructor(options: AgentOptions) {
    this.options = options;
    this.proc = AgentProcess.#spawn(options);
  }

  static #spawn(o: AgentOptions): Proc {
    const args = [AGENT_BIN, "--url", o.url, "--token", o.token, "--id", o.id, "--capacity", String(o.capacity ?? 2)];
    if (o.pool) args.push("--pool", o.pool);
    args.push(...(o.args ?? []));
    return new Proc(process.execPath, args, { ...process.env, ...o.env }, ROOT);
  }

  /** Starts an agent and waits until the Worker welcomed it. */
  static async start(options: AgentOptions): Promise<AgentProcess> {
    const agent = new AgentProcess(options);
    await agent.connected();
    return agent;
  }

  /** Starts an agent without waiting (for agents the Worker is meant to refuse). */
  static spawn(options: AgentOptions): AgentProcess {
    return new AgentProcess(options);
  }

  /** Waits for the next (or an existing) "connected" log line after `afterLine`. */
  connected(timeoutMs = 30_000, afterLine = 0): Promise<string> {
    return waitForLine(this.proc.log, /connected to pool/, timeoutMs, `agent ${this.options.id} to connect`, afterLine);
  }

  /** Runs the same agent again (same id), as after a crash and restart. */
  async restart(): Promise<void> {
    await this.proc.stop("SIGKILL");
    this.proc = AgentProcess.#spawn(this.options);
    await this.connected();
  }

  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    return this.proc.stop(signal);
  }
}
