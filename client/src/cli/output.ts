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

/** `812` → "812 B"; "12.3 KiB", "1.4 MiB". */
export function byteSize(n: number): string {
  if (n < 1024) return `${n} B`;
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Text from a model or a program, made safe for a terminal: every control
 * character but newline and tab (ESC above all, which starts the sequences
 * that move the cursor, retitle the window or rewrite the screen) is shown as
 * a visible escape such as `\x1b`, never sent as is.
 */
export function printable(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const control = (c < 0x20 && c !== 0x0a && c !== 0x09) || (c >= 0x7f && c <= 0x9f);
    if (!control) continue;
    out += `${text.slice(from, i)}\\x${c.toString(16).padStart(2, "0")}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Cuts text to one line of at most `max` characters, safe for a terminal. */
export function oneLine(text: string, max = 80): string {
  const flat = printable(text.replace(/\s+/g, " ").trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
