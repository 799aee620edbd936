import type { RunEvent, RunEventType } from "@edgeswarm/shared";

export type Listener = (event: RunEvent) => void | Promise<void>;

/**
 * The run's message bus: each appended event is delivered to the listeners
 * subscribed to its type (or to every type). A listener that throws or rejects
 * is logged and isolated; the others still get the event. Delivery is in
 * memory; durability comes from the log, which the driver re-reads after a
 * restart.
 */
export class Bus {
  readonly #byType = new Map<RunEventType | "*", Set<Listener>>();

  /** Subscribes to some types, or "*" for all; returns the unsubscribe function. */
  subscribe(types: readonly RunEventType[] | "*", listener: Listener): () => void {
    const keys = types === "*" ? (["*"] as const) : types;
    for (const key of keys) {
      const set = this.#byType.get(key) ?? new Set<Listener>();
      this.#byType.set(key, set);
      set.add(listener);
    }
    return () => {
      for (const key of keys) this.#byType.get(key)?.delete(listener);
    };
  }

  publish(event: RunEvent): void {
    const listeners = [...(this.#byType.get(event.type) ?? []), ...(this.#byType.get("*") ?? [])];
    for (const listener of listeners) {
      try {
        const result = listener(event);
        if (result instanceof Promise) result.catch((err: unknown) => report(event, err));
      } catch (err) {
        report(event, err);
      }
    }
  }
}

function report(event: RunEvent, err: unknown): void {
  console.error(`a listener of ${event.type} (seq ${event.seq}) failed:`, err);
}
