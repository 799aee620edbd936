import { within } from "../../scripts/lib/wait.ts";
import { type DockerEvent, type EventStream, executionContainerName, watchEvents } from "./docker.ts";

/**
 * Every container event of a stack's agents, followed live from before the
 * first agent starts. executionContainerGone() (docker.ts) replays Docker's
 * event log instead, and the daemon keeps only its last 256 events: under a
 * burst of executions the create or rename of an execution's container falls
 * out of that buffer, and the wait times out although the container is gone.
 * Suites that run many executions at once watch with this instead.
 */
export class ContainerWatch {
  /** Every container of these agents, warm or serving, ever created. */
  readonly ids = new Set<string>();
  readonly #byName = new Map<string, string>();
  readonly #destroyed = new Set<string>();
  readonly #waiters = new Set<() => void>();
  readonly #agentIds: string[];
  #stream: EventStream | undefined;

  private constructor(agentIds: string[]) {
    this.#agentIds = agentIds;
  }

  static async start(agentIds: string[]): Promise<ContainerWatch> {
    const watch = new ContainerWatch(agentIds);
    watch.#stream = await watchEvents(
      { event: ["create", "rename", "destroy"], label: ["edgeswarm.managed=true"] },
      (event) => watch.#see(event),
      false,
    );
    return watch;
  }

  #see(event: DockerEvent): void {
    const attrs = event.Actor?.Attributes ?? {};
    if (!event.id || !this.#agentIds.includes(attrs["edgeswarm.agent"] ?? "")) return;
    this.ids.add(event.id);
    if (event.Action === "destroy") this.#destroyed.add(event.id);
    else if (attrs.name) this.#byName.set(attrs.name, event.id);
    for (const waiter of this.#waiters) waiter();
  }

  /** Resolves once the container that served `executionId` (named for it) has been destroyed. */
  async executionGone(executionId: string, timeoutMs = 15_000): Promise<void> {
    const name = executionContainerName(executionId);
    await this.#until(
      () => {
        const id = this.#byName.get(name);
        return id !== undefined && this.#destroyed.has(id) ? true : undefined;
      },
      timeoutMs,
      `the container of execution ${executionId} to be removed`,
    );
  }

  /** Resolves with the id of the container serving `executionId`, once it carries its name. */
  executionContainer(executionId: string, timeoutMs = 15_000): Promise<string> {
    const name = executionContainerName(executionId);
    return this.#until(() => this.#byName.get(name), timeoutMs, `a container named ${name}`);
  }

  async #until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = check();
    if (now !== undefined) return now;
    const { promise, resolve } = Promise.withResolvers<T>();
    const waiter = () => {
      const value = check();
      if (value !== undefined) resolve(value);
    };
    this.#waiters.add(waiter);
    try {
      return await within(promise, timeoutMs, what);
    } finally {
      this.#waiters.delete(waiter);
    }
  }

  close(): void {
    this.#stream?.destroy();
  }
}
