import { type RunEvent, type RunView, USER_SPEAKER } from "@edgeswarm/shared";
import { EdgeswarmApiError } from "../../sdk/errors.ts";
import type { Runs } from "../../sdk/runs.ts";
import type { LineInput } from "../line-input.ts";
import { printable } from "../output.ts";

/** The command that answers a run waiting for input, for messages. */
export function sendCommand(runId: string): string {
  return `edgeswarm runs send ${runId} "<text>"`;
}

/** Why `run` stopped following: the input ended while the run waited for an answer. */
export class InputEnded extends Error {
  readonly run: RunView;

  constructor(run: RunView) {
    super(`run ${run.id} waits for your answer, and stdin has ended; answer with: ${sendCommand(run.id)}`);
    this.name = "InputEnded";
    this.run = run;
  }
}

export interface UserTurnOptions {
  runId: string;
  runs: Pick<Runs, "get" | "send">;
  input: LineInput;
  /** Writes lines for the person answering (nothing under --json). */
  show(lines: string[]): void;
  /** Before a question takes the terminal, and after it gives it back. */
  asking?(on: boolean): void;
  /** Ends the following: the input ended (an {@link InputEnded}), or the answer could not be sent. */
  stop(why: Error): void;
}

type Phase = { kind: "idle" } | { kind: "asking"; abort: AbortController } | { kind: "sending" };

/**
 * The caller's turn in a team run that `run` follows: when a swarm hands off
 * to the user and the run waits (`awaiting_input`), show the message, read
 * one line and send it (`runs.send`); the run then goes on and so does the
 * following. A run that moves on meanwhile (answered from elsewhere,
 * cancelled, timed out) takes the question back. A handoff that ends the
 * run (a `{handoff: "user"}` termination) asks nothing: the run's status
 * says which it is, and the engine appends the end in the same step as the
 * handoff, so the status read after the handoff's event is the settled one.
 */
export class UserTurn {
  readonly #o: UserTurnOptions;
  #phase: Phase = { kind: "idle" };
  /** A handoff seen while a question was still open or its answer on its way. */
  #pending: { speaker: string; text: string } | null = null;
  #closed = false;

  constructor(options: UserTurnOptions) {
    this.#o = options;
  }

  /** Takes in one event of the run. */
  seen(e: RunEvent): void {
    if (e.type === "team.message" && e.payload.handoff === USER_SPEAKER) {
      const { speaker, text } = e.payload;
      // The next handoff may come before the answer's POST has returned: it is asked after.
      if (this.#phase.kind === "idle") void this.#ask(speaker, text);
      else this.#pending = { speaker, text };
      return;
    }
    const movedOn =
      e.type === "run.finished" ||
      e.type === "run.continued" ||
      (e.type === "team.message" && e.payload.speaker === USER_SPEAKER);
    if (!movedOn) return;
    this.#pending = null;
    if (this.#phase.kind === "asking") this.#phase.abort.abort(new Error("the run moved on"));
  }

  async #ask(speaker: string, text: string): Promise<void> {
    const abort = new AbortController();
    this.#phase = { kind: "asking", abort };
    const { runId, runs, input } = this.#o;
    let asking = false;
    try {
      const run = await runs.get(runId, { signal: abort.signal });
      if (run.status !== "awaiting_input") return;
      asking = true;
      this.#o.asking?.(true);
      this.#o.show([`${speaker} hands the conversation to you:`, ...indent(text)]);
      let answer: string | null = null;
      while (answer === null) {
        const line = await input.read("your answer> ", abort.signal);
        if (line === null) {
          this.#o.stop(new InputEnded(run));
          return;
        }
        if (line.trim()) answer = line;
      }
      this.#phase = { kind: "sending" };
      await runs.send(runId, answer);
    } catch (err) {
      if (abort.signal.aborted) return;
      // It moved on between the question and the answer: its events say how.
      if (err instanceof EdgeswarmApiError && err.code === "invalid_state") return;
      this.#o.stop(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#phase = { kind: "idle" };
      if (asking) this.#o.asking?.(false);
      const next = this.#pending;
      this.#pending = null;
      if (next && !this.#closed) void this.#ask(next.speaker, next.text);
    }
  }

  /** Takes back a question still open (the following has ended). */
  close(): void {
    this.#closed = true;
    this.#pending = null;
    if (this.#phase.kind === "asking") this.#phase.abort.abort(new Error("the following ended"));
    this.#o.input.close();
  }
}

function indent(text: string): string[] {
  return printable(text.replace(/\n+$/, ""))
    .split("\n")
    .map((l) => `  ${l}`);
}
