import type { Language } from "@edgeswarm/shared";

/** An agent as the scheduler sees it. */
export interface Candidate<T> {
  ref: T;
  agentId: string;
  capacity: number;
  inFlight: number;
  languages: readonly Language[];
}

export type Pick<T> =
  | { ok: true; candidate: Candidate<T> }
  | { ok: false; reason: "no_agents" | "language_unavailable" | "no_capacity" };

/**
 * Chooses the agent for one execution: among those that run `language` and have
 * a free slot, the one with the lowest load (in flight / capacity), ties broken
 * by the most free slots and then by agent id, so the choice is deterministic.
 */
export function pickAgent<T>(candidates: readonly Candidate<T>[], language: Language): Pick<T> {
  if (candidates.length === 0) return { ok: false, reason: "no_agents" };
  const able = candidates.filter((c) => c.languages.includes(language));
  if (able.length === 0) return { ok: false, reason: "language_unavailable" };
  let best: Candidate<T> | undefined;
  for (const c of able) {
    if (c.inFlight >= c.capacity) continue;
    if (!best || compare(c, best) < 0) best = c;
  }
  return best ? { ok: true, candidate: best } : { ok: false, reason: "no_capacity" };
}

function compare<T>(a: Candidate<T>, b: Candidate<T>): number {
  const load = a.inFlight / a.capacity - b.inFlight / b.capacity;
  if (load !== 0) return load;
  const free = b.capacity - b.inFlight - (a.capacity - a.inFlight);
  if (free !== 0) return free;
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}
