/** A mistake in how the CLI was called; exits with EXIT_CODES.usage and a hint to `--help`. */
export class UsageError extends Error {
  /** The command whose help to point at, e.g. "runs logs". */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}
