import { LineSplitter } from "./lines.ts";

/**
 * Resolves when `predicate` matches a line of `lines` (from line `from` on, or
 * a line still to come), or rejects after `timeoutMs` saying what it waited for
 * and what it saw last.
 */
export function waitForLine(
  lines: LineLog,
  predicate: RegExp,
  timeoutMs: number,
  what: string,
  from = 0,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const found = lines.all.slice(from).find((l) => predicate.test(l));
    if (found) return resolve(found);
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; last output:\n${lines.all.slice(-15).join("\n")}`,
        ),
      );
    }, timeoutMs);
    const off = lines.onLine((line) => {
      if (!predicate.test(line)) return;
      clearTimeout(timer);
      off();
      resolve(line);
    });
  });
}

/** Collects a process's output lines and lets waiters subscribe to new ones. */
export class LineLog {
  readonly all: string[] = [];
  readonly #listeners = new Set<(line: string) => void>();
  readonly #lines = new LineSplitter();

  push(chunk: string): void {
    for (const line of this.#lines.push(chunk)) {
      this.all.push(line);
      if (this.all.length > 5000) this.all.shift();
      for (const l of this.#listeners) l(line);
    }
  }

  onLine(listener: (line: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Rejects with `what` if `promise` does not settle within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
