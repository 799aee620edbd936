import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LineLog, waitForLine, within } from "../../scripts/lib/wait.ts";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The workspace bin link `npm ci` makes: what `npx edgeswarm` runs. */
export const BIN = join(REPO, "node_modules", ".bin", "edgeswarm");

/**
 * The environment a user's shell would have: this Node first on PATH (the bin's
 * shebang is `env node`), the endpoint and key in EDGESWARM_URL and
 * EDGESWARM_API_KEY, and `home` as HOME, so no config file of this machine's
 * leaks in (the test owns `home`; it need not exist).
 */
export function cliEnv(url: string, apiKey: string, home: string): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(process.execPath)}:${join(REPO, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    HOME: home,
    EDGESWARM_URL: url,
    EDGESWARM_API_KEY: apiKey,
  };
}

/** One `edgeswarm` process: its stdout and stderr lines as they come, its exit code. */
export class Cli {
  readonly child: ChildProcess;
  readonly stdout = new LineLog();
  readonly stderr = new LineLog();
  readonly exited: Promise<number | null>;
  #out = "";
  #err = "";

  readonly #waiters = new Set<() => void>();

  /**
   * With `tty`, the CLI runs on a pseudo-terminal through util-linux `script`,
   * as in a user's terminal: what the test writes to stdin is typed at it
   * ("\x03" is Ctrl-C), and its terminal output arrives as stdout.
   */
  constructor(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; stdin?: string; tty?: boolean }) {
    const [command, argv] = options.tty
      ? ["script", ["-qec", `stty cols 100; exec ${[BIN, ...args].map(shellQuote).join(" ")}`, "/dev/null"]]
      : [BIN, args];
    this.child = spawn(command, argv, { env: options.env, cwd: options.cwd ?? REPO, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      this.#out += d;
      this.stdout.push(d);
      for (const w of this.#waiters) w();
    });
    this.child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      this.#err += d;
      this.stderr.push(d);
    });
    if (options.stdin !== undefined) this.child.stdin?.end(options.stdin);
    else if (!options.tty) this.child.stdin?.end();
    this.exited = once(this.child, "exit").then(([code]) => code as number | null);
    if (process.env.EDGESWARM_TEST_VERBOSE) {
      this.stdout.onLine((l) => process.stderr.write(`[edgeswarm] ${l}\n`));
      this.stderr.onLine((l) => process.stderr.write(`[edgeswarm:err] ${l}\n`));
    }
  }

  get out(): string {
    return this.#out;
  }

  get err(): string {
    return this.#err;
  }

  /** Resolves with the first stdout line matching `pattern`, seen or still to come. */
  line(pattern: RegExp, what: string, timeoutMs = 60_000): Promise<string> {
    return waitForLine(this.stdout, pattern, timeoutMs, what);
  }

  /** Resolves once everything written to stdout so far matches `pattern` (for output without line ends: prompts, redraws). */
  text(pattern: RegExp, what: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pattern.test(this.#out)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stdout so far:\n${this.#out}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Types `text` at the process (its stdin; with `tty`, its terminal). */
  type(text: string): void {
    this.child.stdin?.write(text);
  }

  /** Waits for the exit; says what the process printed if it does not come. */
  async code(timeoutMs = 90_000): Promise<number | null> {
    try {
      return await within(this.exited, timeoutMs, "edgeswarm to exit");
    } catch (err) {
      this.child.kill("SIGKILL");
      throw new Error(`${(err as Error).message}\nstdout:\n${this.#out}\nstderr:\n${this.#err}`);
    }
  }
}

/** Runs `edgeswarm args` to the end. */
export async function cli(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; stdin?: string },
): Promise<{ code: number | null; out: string; err: string }> {
  const proc = new Cli(args, options);
  const code = await proc.code();
  return { code, out: proc.out, err: proc.err };
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}
