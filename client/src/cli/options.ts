import { LIMIT_NAMES, LIMITS, type LimitName, type LimitsInput } from "@edgeswarm/shared";
import { UsageError } from "./usage-error.ts";

/** One flag: its parseArgs shape and its line in the help. */
export interface Flag {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** The value's name in the help, e.g. "<n>". */
  value?: string;
  help: string;
}
export type Flags = Record<string, Flag>;

/** Flags every command takes. */
export const GLOBAL_FLAGS = {
  url: { type: "string", value: "<url>", help: "the API URL (else $EDGESWARM_URL, else the config file)" },
  "api-key": { type: "string", value: "<key>", help: "the API key (else $EDGESWARM_API_KEY, else the config file)" },
  json: { type: "boolean", help: "machine-readable JSON output (one object per line for streams)" },
  help: { type: "boolean", short: "h", help: "show help" },
} as const satisfies Flags;

/** `timeoutMs` → `timeout-ms`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** One flag per limit in LIMITS, so a new limit gets its flag without touching the CLI. */
export const LIMIT_FLAGS: Flags = Object.fromEntries(
  LIMIT_NAMES.map((name) => {
    const { min, max, default: def } = LIMITS[name];
    return [kebab(name), { type: "string", value: "<n>", help: `limit ${name}: ${min} to ${max} (default ${def})` }];
  }),
);

/** The `limits` object from the limit flags given (range checks are the API's: it names the bound). */
export function limitsFrom(values: Record<string, unknown>, command: string): LimitsInput {
  const limits: Partial<Record<LimitName, number>> = {};
  for (const name of LIMIT_NAMES) {
    const raw = values[kebab(name)];
    if (raw === undefined) continue;
    limits[name] = number(String(raw), `--${kebab(name)}`, command, !LIMITS[name].int);
  }
  return limits;
}

/** Parses a numeric flag value, refusing anything but a plain number. */
export function number(raw: string, flag: string, command: string, fractional = false): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || (!fractional && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be ${fractional ? "a number" : "a whole number"}, got '${raw}'`, command);
  }
  return n;
}

/** Parses repeated `K=V` flags into an object. */
export function pairs(raw: string[] | undefined, flag: string, command: string): Record<string, string> | undefined {
  if (!raw?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of raw) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag} takes KEY=VALUE, got '${item}'`, command);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
