import { createInterface, type Interface } from "node:readline";

/** Where `run` reads the caller's answers from: one line per question. */
export interface LineInput {
  /**
   * The next line, without its end; null once the input has ended. Rejects
   * with the signal's reason when it aborts first (a line that comes later
   * is kept for the next read).
   */
  read(prompt: string, signal: AbortSignal): Promise<string | null>;
  close(): void;
}

/**
 * Lines from a pipe or a file (stdin that is not a terminal): one reader for
 * the whole run, since a pipe's chunk may hold the answers to several
 * questions, and a reader closed after the first would lose the rest. The
 * prompt is not written: nobody is there to read it.
 */
export class PipedLines implements LineInput {
  readonly #input: NodeJS.ReadableStream;
  #rl: Interface | null = null;
  readonly #lines: string[] = [];
  #ended = false;
  #wake: (() => void) | null = null;

  constructor(input: NodeJS.ReadableStream) {
    this.#input = input;
  }

  async read(_prompt: string, signal: AbortSignal): Promise<string | null> {
    // Opened at the first question, so that a run that never asks never reads stdin.
    this.#rl ??= this.#open();
    for (;;) {
      signal.throwIfAborted();
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.#wake = null;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  #open(): Interface {
    const rl = createInterface({ input: this.#input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
    rl.on("line", (line) => {
      this.#lines.push(line);
      this.#wake?.();
    });
    rl.on("close", () => {
      this.#ended = true;
      this.#wake?.();
    });
    return rl;
  }

  close(): void {
    this.#rl?.close();
  }
}

/**
 * Lines typed at a terminal: a readline prompt per question (so that
 * between questions the terminal is free for the Ctrl-C prompt). Ctrl-C at
 * the prompt calls `onInterrupt`; Ctrl-D ends the input.
 */
export class TypedLines implements LineInput {
  readonly #input: NodeJS.ReadableStream;
  readonly #output: NodeJS.WritableStream;
  readonly #onInterrupt: () => void;

  constructor(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, onInterrupt: () => void) {
    this.#input = input;
    this.#output = output;
    this.#onInterrupt = onInterrupt;
  }

  read(prompt: string, signal: AbortSignal): Promise<string | null> {
    signal.throwIfAborted();
    const rl = createInterface({ input: this.#input, output: this.#output, terminal: true });
    return new Promise<string | null>((resolve, reject) => {
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        rl.close();
        f();
      };
      const onAbort = () => settle(() => reject(signal.reason));
      signal.addEventListener("abort", onAbort, { once: true });
      rl.on("SIGINT", () => settle(this.#onInterrupt));
      rl.on("line", (line) => settle(() => resolve(line)));
      // Ctrl-D on an empty line (or the terminal gone): the input has ended.
      rl.on("close", () => settle(() => resolve(null)));
      rl.setPrompt(prompt);
      rl.prompt();
    });
  }

  close(): void {}
}
