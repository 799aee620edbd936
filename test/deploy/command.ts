import { Proc } from "../../scripts/lib/process.ts";
import { within } from "../../scripts/lib/wait.ts";

/** What a finished command printed (stdout and stderr merged, by line) and its exit code. */
export interface Finished {
  code: number | null;
  lines: string[];
  text: string;
}

/**
 * Runs a command to its end, bounded: after `timeoutMs` it is killed and this
 * rejects, naming the command and its last output.
 */
export async function runCommand(
  command: string,
  args: string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<Finished> {
  const proc = new Proc(command, args, options.env ?? process.env, options.cwd);
  try {
    const code = await within(proc.exited, options.timeoutMs, `${proc.name} to finish`);
    return { code, lines: proc.log.all, text: proc.log.all.join("\n") };
  } catch (err) {
    await proc.stop("SIGKILL");
    throw new Error(`${(err as Error).message}; last output:\n${proc.log.all.slice(-20).join("\n")}`);
  }
}
