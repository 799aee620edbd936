import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "./usage-error.ts";

/** Where the CLI finds its endpoint and key. */
export interface CliConfig {
  url: string;
  apiKey: string;
}

export const CONFIG_ENV = { url: "EDGESWARM_URL", apiKey: "EDGESWARM_API_KEY", file: "EDGESWARM_CONFIG" } as const;

/** `$EDGESWARM_CONFIG`, else `~/.config/edgeswarm/config.json` (or under `$XDG_CONFIG_HOME`). */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env[CONFIG_ENV.file]) return env[CONFIG_ENV.file] as string;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "edgeswarm", "config.json");
}

const MAX_CONFIG_BYTES = 64 * 1024;

async function readConfigFile(path: string, explicit: boolean): Promise<Partial<CliConfig>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new UsageError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  if (text.length > MAX_CONFIG_BYTES) throw new UsageError(`the config file ${path} is over ${MAX_CONFIG_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new UsageError(`the config file ${path} must hold an object: {"url": "...", "apiKey": "..."}`);
  }
  const out: Partial<CliConfig> = {};
  for (const key of ["url", "apiKey"] as const) {
    const value = (json as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== "string" || !value) throw new UsageError(`"${key}" in ${path} must be a non-empty string`);
    out[key] = value;
  }
  return out;
}

/**
 * The URL and key, each from the first place that has it: flags (`--url`,
 * `--api-key`), then the environment, then the config file.
 */
export async function resolveConfig(flags: Partial<CliConfig>, env: NodeJS.ProcessEnv): Promise<CliConfig> {
  const path = configPath(env);
  let url = flags.url || env[CONFIG_ENV.url];
  let apiKey = flags.apiKey || env[CONFIG_ENV.apiKey];
  if (!url || !apiKey) {
    const file = await readConfigFile(path, Boolean(env[CONFIG_ENV.file]));
    url ||= file.url;
    apiKey ||= file.apiKey;
  }
  if (!url) {
    throw new UsageError(`no API URL: pass --url, set ${CONFIG_ENV.url}, or put "url" in ${path}`);
  }
  if (!/^https?:\/\/[^/]/i.test(url)) throw new UsageError(`the API URL must be http(s)://..., got ${url}`);
  if (!apiKey) {
    throw new UsageError(`no API key: pass --api-key, set ${CONFIG_ENV.apiKey}, or put "apiKey" in ${path}`);
  }
  return { url, apiKey };
}
