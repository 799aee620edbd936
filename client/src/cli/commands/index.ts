import type { Command } from "../command.ts";
import { agentsLs } from "./agents.ts";
import { exec } from "./exec.ts";
import { run } from "./run.ts";
import { runsApprove, runsCancel, runsLogs, runsLs, runsShow } from "./runs.ts";

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [run, exec, runsLs, runsShow, runsLogs, runsCancel, runsApprove, agentsLs];

/** The command groups (`runs`, `agents`) that take a subcommand. */
export const GROUPS = new Set(COMMANDS.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0] as string));
