import type { Command } from "../command.ts";
import { agentsLs } from "./agents.ts";
import { exec } from "./exec.ts";
import { run } from "./run.ts";
import { runsApprove, runsCancel, runsLogs, runsLs, runsSend, runsShow, runsState } from "./runs.ts";

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [
  run,
  exec,
  runsLs,
  runsShow,
  runsLogs,
  runsCancel,
  runsApprove,
  runsSend,
  runsState,
  agentsLs,
];

/** The command groups (`runs`, `agents`) that take a subcommand. */
export const GROUPS = new Set(COMMANDS.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0] as string));
