import type { AgentSandboxes } from "@edgeswarm/shared";

const PREFIX = "agent-sandboxes:";

/**
 * What each connected agent's images hold (agent.hello `sandboxes`), kept in
 * the object's storage by connection id. Not in the socket's hibernation
 * attachment: that is limited to 2,048 bytes serialised, and a package list
 * alone passes it. Storage outlives the object's eviction as the sockets do;
 * rows of connections that closed meanwhile are pruned.
 */
export class SandboxStore {
  readonly #kv: SyncKvStorage;
  /** Rows read or written by this instance; `null`: known to have none. */
  readonly #cache = new Map<string, AgentSandboxes | null>();

  constructor(kv: SyncKvStorage) {
    this.#kv = kv;
  }

  put(connId: string, sandboxes: AgentSandboxes): void {
    this.#kv.put(PREFIX + connId, sandboxes);
    this.#cache.set(connId, sandboxes);
  }

  get(connId: string): AgentSandboxes | undefined {
    let row = this.#cache.get(connId);
    if (row === undefined) {
      row = this.#kv.get<AgentSandboxes>(PREFIX + connId) ?? null;
      this.#cache.set(connId, row);
    }
    return row ?? undefined;
  }

  delete(connId: string): void {
    this.#cache.delete(connId);
    this.#kv.delete(PREFIX + connId);
  }

  /** Deletes the rows of connections not in `live` (closed while the object was away). */
  prune(live: ReadonlySet<string>): void {
    for (const [key] of this.#kv.list({ prefix: PREFIX })) {
      const connId = key.slice(PREFIX.length);
      if (!live.has(connId)) this.delete(connId);
    }
  }
}
