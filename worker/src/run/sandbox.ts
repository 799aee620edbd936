import { SANDBOX_BRIEF_CHARS } from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { poolSandboxProfile } from "../pool/client.ts";
import { sandboxBrief } from "../roles/sandbox-brief.ts";

/** Said when no agent has told what its sandbox holds, or the pool cannot be asked. */
export const UNKNOWN_SANDBOX =
  "The sandbox runs Python 3 and bash. What else it holds is not known now: check before you rely on a package. " +
  "No network: nothing can be downloaded or installed.";

/**
 * The pool's sandbox, described for the prompts from what its connected
 * agents advertise; null when none has said (none connected, or older ones)
 * or the pool cannot be reached, so that a caller can ask again later.
 */
export async function describeSandbox(env: Env, pool: string): Promise<string | null> {
  try {
    const profile = await poolSandboxProfile(env, pool);
    if (!profile.languages.some((l) => l.interpreter || Object.keys(l.packages).length > 0)) return null;
    return sandboxBrief(profile).slice(0, SANDBOX_BRIEF_CHARS);
  } catch {
    return null;
  }
}

/** A role's system prompt with the sandbox's description after it. */
export function withSandbox(system: string, sandbox: string | null | undefined): string {
  return `${system.trimEnd()}\n\n${sandbox ?? UNKNOWN_SANDBOX}\n`;
}
