import type { Edgeswarm } from "../sdk/client.ts";
import type { Flags } from "./options.ts";

/** What a command runs with. */
export interface Context {
  /** The API client, built from flags, environment or config file on first use. */
  swarm(): Promise<Edgeswarm>;
  json: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Parsed flag values, as parseArgs gives them. */
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** One CLI command (or `group sub` command). Returns the exit code. */
export interface Command {
  /** e.g. "run", "runs logs". */
  name: string;
  /** The positionals in the usage line, e.g. "<id>". */
  args: string;
  /** How many positionals it takes. */
  positionals: readonly [min: number, max: number];
  summary: string;
  flags: Flags;
  /** More help text after the flags. */
  notes?: string;
  run(ctx: Context, values: Values, positionals: string[]): Promise<number>;
}
