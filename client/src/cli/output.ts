/** Writes a line to stdout. */
export function out(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a line to stderr. */
export function err(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** One JSON object on its own line (the `--json` format). */
export function jsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Whether to draw the live, redrawn view: stdout is a terminal and nobody asked for plain output. */
export function interactive(env: NodeJS.ProcessEnv): boolean {
  return Boolean(process.stdout.isTTY) && env.TERM !== "dumb";
}

/** Resolves once everything written so far to stdout and stderr has been handed to the OS. */
export function flushed(): Promise<void> {
  const drain = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => s.write("", () => resolve()));
  return Promise.all([drain(process.stdout), drain(process.stderr)]).then(() => {});
}

/** `1234` → "1.2 s"; under a second in ms. */
export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Cuts text to one line of at most `max` characters. */
export function oneLine(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
