import { randomBytes } from "node:crypto";
import { WORKER_VARIABLES } from "@edgeswarm/shared";

/**
 * The Worker variables that `npm start` passes on from its own environment
 * when they are set: every one the Worker reads, so that the local stack is
 * configured exactly like a deployed Worker.
 */
export const PASSED_THROUGH = WORKER_VARIABLES;

/** How the local stack is set up: the Worker's variables, and the key and token it uses itself. */
export interface LocalConfig {
  /** The Worker's variables (its env file). */
  vars: Record<string, string>;
  /** The key `npm start` uses for its smoke execution and prints. */
  apiKey: string;
  /** Said after the key: where it came from. */
  keyNote: string;
  /** The token the local agents connect with, and the pool it admits to. */
  agentToken: string;
  pool: string;
  /** One line per variable the Worker got, naming its source; never a value. */
  sources: string[];
}

/** A configuration `npm start` cannot use; the message says what to change. */
export class LocalConfigError extends Error {
  override name = "LocalConfigError";
}

function jsonObject(name: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LocalConfigError(`${name} is not valid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new LocalConfigError(`${name} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function poolOf(grant: unknown): string | undefined {
  if (typeof grant === "string") return grant;
  const pool = (grant as { pool?: unknown } | null)?.pool;
  return typeof pool === "string" ? pool : undefined;
}

/**
 * Reads `npm start`'s environment:
 *
 * - EDGESWARM_API_KEYS, when set, replaces the one local key; otherwise the
 *   key is EDGESWARM_API_KEY, or a new one, for tenant `local` in pool
 *   `default`.
 * - EDGESWARM_AGENT_TOKEN is the local agents' token (else a new one);
 *   EDGESWARM_AGENT_TOKENS, when set, must hold it, and names its pool.
 * - Every other variable of PASSED_THROUGH is passed as it is.
 *
 * The Worker checks the values themselves when it starts serving.
 */
export function localConfig(env: NodeJS.ProcessEnv): LocalConfig {
  const sources: string[] = [];
  const vars: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = env[name];
    if (value !== undefined && value !== "") {
      vars[name] = value;
      sources.push(`${name} from your environment`);
    }
  }

  const agentToken = env.EDGESWARM_AGENT_TOKEN || `es_agent_${randomBytes(16).toString("hex")}`;
  let pool = "default";
  if (vars.EDGESWARM_AGENT_TOKENS) {
    const grant = jsonObject("EDGESWARM_AGENT_TOKENS", vars.EDGESWARM_AGENT_TOKENS)[agentToken];
    const named = poolOf(grant);
    if (!named) {
      throw new LocalConfigError(
        "EDGESWARM_AGENT_TOKENS is set, so the local agents need one of its tokens: set EDGESWARM_AGENT_TOKEN to it",
      );
    }
    pool = named;
  } else {
    vars.EDGESWARM_AGENT_TOKENS = JSON.stringify({ [agentToken]: pool });
    sources.push(
      `EDGESWARM_AGENT_TOKENS: the local agents' token (${env.EDGESWARM_AGENT_TOKEN ? "EDGESWARM_AGENT_TOKEN" : "generated"}), pool 'default'`,
    );
  }

  let apiKey: string;
  let keyNote: string;
  if (vars.EDGESWARM_API_KEYS) {
    const keys = jsonObject("EDGESWARM_API_KEYS", vars.EDGESWARM_API_KEYS);
    const usable = Object.entries(keys).find(([, grant]) => {
      const pools = (grant as { pools?: unknown } | null)?.pools;
      return Array.isArray(pools) && pools[0] === pool;
    });
    if (!usable) {
      throw new LocalConfigError(
        `EDGESWARM_API_KEYS has no key whose first pool is '${pool}', where the local agents are: add one, or change EDGESWARM_AGENT_TOKENS`,
      );
    }
    apiKey = usable[0];
    keyNote = `   (from EDGESWARM_API_KEYS: the first key for pool '${pool}')`;
  } else {
    apiKey = env.EDGESWARM_API_KEY || `es_dev_${randomBytes(16).toString("hex")}`;
    if (apiKey.length < 8) throw new LocalConfigError("EDGESWARM_API_KEY must have at least 8 characters");
    vars.EDGESWARM_API_KEYS = JSON.stringify({ [apiKey]: { tenant: "local", pools: ["default"] } });
    keyNote = env.EDGESWARM_API_KEY ? "" : "   (generated; set EDGESWARM_API_KEY to choose one)";
    sources.push(
      `EDGESWARM_API_KEYS: one key (${env.EDGESWARM_API_KEY ? "EDGESWARM_API_KEY" : "generated"}), tenant 'local'`,
    );
  }
  return { vars, apiKey, keyNote, agentToken, pool, sources };
}
