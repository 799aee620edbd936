import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { text } from "node:stream/consumers";
import {
  type ExecutionRequestInput,
  type ExecutionSummary,
  LANGUAGES,
  type Language,
  REQUEST_MAXIMA,
} from "@edgeswarm/shared";
import type { Command, Values } from "../command.ts";
import { EXIT_CODES } from "../exit-codes.ts";
import { LIMIT_FLAGS, limitsFrom, pairs } from "../options.ts";
import { err, jsonLine, printable } from "../output.ts";
import { UsageError } from "../usage-error.ts";
import { readWorkspaceFiles } from "../workspace-files.ts";

const NAME = "exec";

const BY_EXTENSION: Record<string, Language> = { ".py": "python", ".sh": "bash", ".js": "node", ".mjs": "node" };

/** `edgeswarm exec <file>`: run a program once in a sandbox, streaming its output. */
export const exec: Command = {
  name: NAME,
  args: "<file>",
  positionals: [1, 1],
  summary: "run a program once in a sandbox (no model), streaming its output",
  flags: {
    language: { type: "string", value: LANGUAGES.join("|"), help: "the language (default: from the extension)" },
    stdin: { type: "string", value: "<file>|-", help: "the program's standard input: a file, or - for this one's" },
    file: { type: "string", multiple: true, value: "<path>", help: "a file to put in /workspace (repeatable)" },
    arg: { type: "string", multiple: true, value: "<arg>", help: "an argument for the program (repeatable)" },
    env: { type: "string", multiple: true, value: "<k=v>", help: "an environment variable (repeatable)" },
    pool: { type: "string", value: "<name>", help: "the sandbox pool (default: the key's first)" },
    raw: { type: "boolean", help: "pass the program's output to a terminal as it is, escape sequences included" },
    ...LIMIT_FLAGS,
  },
  notes:
    "Exit code: the program's own when it exited (succeeded, failed, output_limited); 124 when it timed out;\n" +
    "137 when it ran out of memory; 3 when cancelled; 5 when no result came (status error).\n" +
    "With --json, the whole result as one JSON object once the program ends.",
  async run(ctx, values, [file]) {
    const body = await execBody(file ?? "", values);
    const swarm = await ctx.swarm();
    if (ctx.json) {
      const result = await swarm.executions.run(body);
      jsonLine(result);
      return execExitCode(result);
    }
    // On a terminal the program's output is shown safe (its escape sequences visible), unless --raw;
    // into a pipe or a file it goes byte for byte.
    const show = (stream: NodeJS.WriteStream, data: string) =>
      stream.write(stream.isTTY && !values.raw ? printable(data) : data);
    // Leaving early (Ctrl-C kills us) closes the stream, and the Worker then kills the sandbox.
    for await (const e of swarm.executions.stream(body)) {
      if (e.type === "stdout") show(process.stdout, e.data);
      else if (e.type === "stderr") show(process.stderr, e.data);
      else if (e.type === "finished") {
        const r = e.result;
        if (r.status !== "succeeded" && r.status !== "failed") {
          const why = r.error ? `: ${r.error.code}: ${printable(r.error.message)}` : "";
          const cut = r.truncated.stdout || r.truncated.stderr ? " (output cut at outputBytes)" : "";
          err(`edgeswarm: the program ended ${r.status}${cut}${why}`);
        }
        return execExitCode(r);
      }
    }
    return EXIT_CODES.apiError; // unreachable: stream() throws if no `finished` came
  },
};

/** The documented exit code for an execution's result. */
export function execExitCode(r: Pick<ExecutionSummary, "status" | "exitCode">): number {
  switch (r.status) {
    case "succeeded":
    case "failed":
    case "output_limited":
      return r.exitCode ?? EXIT_CODES.failed;
    case "timed_out":
      return EXIT_CODES.execTimedOut;
    case "oom_killed":
      return EXIT_CODES.execOomKilled;
    case "cancelled":
      return EXIT_CODES.cancelled;
    case "error":
      return EXIT_CODES.apiError;
  }
}

async function execBody(file: string, values: Values): Promise<ExecutionRequestInput> {
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const language = (str("language") ?? BY_EXTENSION[extname(file).toLowerCase()]) as Language | undefined;
  if (!language || !(LANGUAGES as readonly string[]).includes(language)) {
    throw new UsageError(
      `cannot tell the language of '${file}': pass --language ${LANGUAGES.join("|")} (or use .py, .sh, .js)`,
      NAME,
    );
  }
  let code: string;
  try {
    code = await readFile(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`, NAME);
  }
  const body: ExecutionRequestInput = { language, code };
  const stdin = str("stdin");
  if (stdin !== undefined) {
    try {
      body.stdin = stdin === "-" ? await text(process.stdin) : await readFile(stdin, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read --stdin ${stdin}: ${(e as Error).message}`, NAME);
    }
    if (body.stdin.length > REQUEST_MAXIMA.stdinBytes) {
      throw new UsageError(`--stdin is over ${REQUEST_MAXIMA.stdinBytes} characters`, NAME);
    }
  }
  const files = (values.file as string[] | undefined) ?? [];
  if (files.length > 0) body.files = await readWorkspaceFiles(files, NAME);
  const args = values.arg as string[] | undefined;
  if (args?.length) body.args = args;
  const env = pairs(values.env as string[] | undefined, "--env", NAME);
  if (env) body.env = env;
  const pool = str("pool");
  if (pool !== undefined) body.pool = pool;
  const limits = limitsFrom(values, NAME);
  if (Object.keys(limits).length > 0) body.limits = limits;
  return body;
}
