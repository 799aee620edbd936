import type { Command } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { EXIT_CODES } from "./exit-codes.ts";
import { type Flags, GLOBAL_FLAGS } from "./options.ts";

function flagLines(flags: Flags): string[] {
  const rows = Object.entries(flags).map(([name, f]) => {
    const short = "short" in f && f.short ? `-${f.short}, ` : "";
    return [`  ${short}--${name}${f.value ? ` ${f.value}` : ""}`, f.help] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, h]) => `${l.padEnd(width)}  ${h}`);
}

/** The exit codes, as `--help` and docs/cli.md list them. */
export function exitCodeLines(): string[] {
  const c = EXIT_CODES;
  return [
    `  ${c.ok}    succeeded`,
    `  ${c.failed}    the run failed (or an unexpected error)`,
    `  ${c.usage}    usage error: unknown command or flag, bad value, no URL or API key`,
    `  ${c.cancelled}    the run was cancelled`,
    `  ${c.timedOut}    the run timed out`,
    `  ${c.apiError}    the API answered with an error (unknown run, bad key, wrong state, ...)`,
    `  ${c.unreachable}    the API could not be reached`,
    `  ${c.waiting}    the run waits for your answer (stdin ended): edgeswarm runs send <id> "<text>"`,
    `  ${c.interrupted}  interrupted by a second Ctrl-C (the run may go on)`,
    `  exec: the program's own exit code; ${c.execTimedOut} timed out, ${c.execOomKilled} out of memory`,
  ];
}

/** `edgeswarm --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args}`.length));
  return [
    "edgeswarm: coding-agent swarms and sandboxed code from the command line",
    "",
    "Usage: edgeswarm <command> [flags]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`),
    "",
    "Flags for every command:",
    ...flagLines(GLOBAL_FLAGS),
    "",
    "Configuration: flags, then EDGESWARM_URL and EDGESWARM_API_KEY, then a JSON file",
    '{"url": ..., "apiKey": ...} at $EDGESWARM_CONFIG or ~/.config/edgeswarm/config.json.',
    "",
    "Exit codes:",
    ...exitCodeLines(),
    "",
    "Run 'edgeswarm <command> --help' for a command's flags.",
  ].join("\n");
}

/** `edgeswarm <command> --help`. */
export function commandHelp(c: Command): string {
  return [
    `edgeswarm ${c.name}: ${c.summary}`,
    "",
    `Usage: edgeswarm ${c.name}${c.args ? ` ${c.args}` : ""} [flags]`,
    "",
    ...(Object.keys(c.flags).length ? ["Flags:", ...flagLines(c.flags), ""] : []),
    "Flags for every command:",
    ...flagLines(GLOBAL_FLAGS),
    ...(c.notes ? ["", c.notes] : []),
  ].join("\n");
}
