import { SANDBOX_BRIEF_CHARS } from "@edgeswarm/shared";
import type { Env } from "../env.ts";
import { poolSandboxProfile } from "../pool/client.ts";
import { sandboxBrief } from "../roles/sandbox-brief.ts";

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
