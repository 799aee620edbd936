import { parseArgs } from "node:util";
import { Edgeswarm } from "../sdk/client.ts";
import { EdgeswarmApiError, EdgeswarmError } from "../sdk/errors.ts";
import type { Command, Context, Values } from "./command.ts";
import { COMMANDS, GROUPS } from "./commands/index.ts";
import { resolveConfig } from "./config.ts";
import { EXIT_CODES } from "./exit-codes.ts";
import { commandHelp, mainHelp } from "./help.ts";
import { GLOBAL_FLAGS } from "./options.ts";
import { err, jsonLine, out } from "./output.ts";
import { UsageError } from "./usage-error.ts";

/** Global flags that take a value: their value is not the command's name. */
const VALUE_FLAGS = new Set(["--url", "--api-key"]);

/** Finds the command words (`run`, `runs logs`) among the arguments, wherever global flags sit. */
function findCommand(argv: string[]): { command: Command | undefined; words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const takesWord = words.length === 0 || (words.length === 1 && GROUPS.has(words[0] as string));
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (VALUE_FLAGS.has(arg)) {
      rest.push(arg, ...(i + 1 < argv.length ? [argv[++i] as string] : []));
    } else if (takesWord && !arg.startsWith("-")) {
      words.push(arg);
    } else rest.push(arg);
  }
  const command = COMMANDS.find((c) => c.name === words.join(" "));
  return { command, words, rest };
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let json = argv.includes("--json");
  let hint = "edgeswarm --help";
  try {
    const { command, words, rest } = findCommand(argv);
    if (!command) {
      if (words.length === 0) {
        if (rest.includes("--help") || rest.includes("-h")) {
          out(mainHelp());
          return EXIT_CODES.ok;
        }
        if (rest.length === 0) {
          // Asked nothing: the help, but on stderr and as a usage error, so scripts notice.
          err(mainHelp());
          return EXIT_CODES.usage;
        }
        if (rest.includes("--version")) {
          out("edgeswarm 0.1.0");
          return EXIT_CODES.ok;
        }
        throw new UsageError(`no command given (${rest.join(" ")})`);
      }
      const group = words[0] as string;
      if (GROUPS.has(group) && words.length === 1) {
        throw new UsageError(`'${group}' needs a subcommand: ${subcommands(group)}`);
      }
      throw new UsageError(`unknown command '${words.join(" ")}'`);
    }
    hint = `edgeswarm ${command.name} --help`;
    const { values, positionals } = parse(command, rest);
    json = values.json === true;
    if (values.help) {
      out(commandHelp(command));
      return EXIT_CODES.ok;
    }
    const [min, max] = command.positionals;
    if (positionals.length < min) {
      throw new UsageError(`missing ${command.args}: edgeswarm ${command.name} ${command.args}`, command.name);
    }
    if (positionals.length > max) {
      throw new UsageError(`unexpected argument '${positionals[max]}' (quote a task that has spaces)`, command.name);
    }
    let client: Promise<Edgeswarm> | undefined;
    const ctx: Context = {
      json,
      env,
      cwd: process.cwd(),
      swarm: () => {
        client ??= resolveConfig(
          {
            url: typeof values.url === "string" ? values.url : undefined,
            apiKey: typeof values["api-key"] === "string" ? values["api-key"] : undefined,
          },
          env,
        ).then((config) => new Edgeswarm(config));
        return client;
      },
    };
    return await command.run(ctx, values, positionals);
  } catch (error) {
    return fail(error, json, hint);
  }
}

function subcommands(group: string): string {
  return COMMANDS.filter((c) => c.name.startsWith(`${group} `))
    .map((c) => c.name.slice(group.length + 1))
    .join(", ");
}

function parse(command: Command, args: string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...GLOBAL_FLAGS, ...command.flags },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (e) {
    // parseArgs' messages name the flag ("Unknown option '--nope'"); keep them, drop its own advice.
    const message = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(message, command.name);
  }
}

/** Prints an error the way its kind deserves and returns its exit code. */
function fail(error: unknown, json: boolean, hint: string): number {
  let code: number;
  let body: Record<string, unknown>;
  if (error instanceof UsageError) {
    code = EXIT_CODES.usage;
    const help = error.command ? `edgeswarm ${error.command} --help` : hint;
    err(`edgeswarm: ${error.message}\nSee '${help}'.`);
    body = { code: "usage", message: error.message };
  } else if (error instanceof EdgeswarmError) {
    code = error.code === "unreachable" ? EXIT_CODES.unreachable : EXIT_CODES.apiError;
    const status = error instanceof EdgeswarmApiError ? `, HTTP ${error.status}` : "";
    err(`edgeswarm: ${error.message} (${error.code}${status})`);
    body = { code: error.code, status: error.status, message: error.message, details: error.details };
  } else {
    code = EXIT_CODES.failed;
    err(`edgeswarm: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    body = { code: "internal", message: error instanceof Error ? error.message : String(error) };
  }
  if (json) jsonLine({ error: body });
  return code;
}
