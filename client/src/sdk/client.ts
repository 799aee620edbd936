import { Agents } from "./agents.ts";
import { Executions } from "./executions.ts";
import { type RetryOptions, retryOptions } from "./retry.ts";
import { Runs } from "./runs.ts";
import { Transport, type TransportOptions } from "./transport.ts";

export interface EdgeswarmOptions extends TransportOptions {
  /** How `runs.events()` retries a dropped stream (default: 10 attempts, 250 ms doubling to 8 s). */
  retry?: Partial<RetryOptions>;
}

/**
 * The edgeswarm API client. Fetch only, so it runs in Node 22+, Workers and
 * browsers. Every method takes an optional `signal`; every failure is an
 * {@link EdgeswarmError} with a stable `code`.
 *
 * @example
 * const swarm = new Edgeswarm({ url: "http://127.0.0.1:8787", apiKey });
 * const { id } = await swarm.runs.create({ task: "Print the 10th Fibonacci number." });
 * const run = await swarm.runs.wait(id);
 */
export class Edgeswarm {
  readonly runs: Runs;
  readonly executions: Executions;
  readonly agents: Agents;
  /** The base URL, without a trailing slash. */
  readonly url: string;

  constructor(options: EdgeswarmOptions) {
    const transport = new Transport(options);
    this.url = transport.baseUrl;
    this.runs = new Runs(transport, retryOptions(options.retry));
    this.executions = new Executions(transport);
    this.agents = new Agents(transport);
  }
}
