/**
 * The `edgeswarm` CLI's exit codes; stable, documented in `edgeswarm --help`
 * and docs/cli.md. `exec` exits with the program's own code instead when the
 * program ran (see `execExitCode`), so these can overlap with a program's.
 */
export const EXIT_CODES = {
  /** The run succeeded, or the command did what it was asked. */
  ok: 0,
  /** The run failed (max iterations, token budget, a model error, a failed step...), or an unexpected error. */
  failed: 1,
  /** A usage error: unknown command or flag, a bad value, missing URL or API key. */
  usage: 2,
  /** The run was cancelled (by Ctrl-C, `runs cancel`, or anyone else). */
  cancelled: 3,
  /** The run hit its wall-time limit (`timed_out`). */
  timedOut: 4,
  /** The API answered with an error (4xx/5xx: unknown run, bad key, invalid state, no capacity...). */
  apiError: 5,
  /** The API could not be reached at all (wrong URL, Worker down). */
  unreachable: 6,
  /**
   * `run` stopped following a run that waits for the caller: a swarm handed
   * off to the user and stdin ended before an answer. The run goes on
   * waiting; `edgeswarm runs send <id> "<text>"` answers it.
   */
  waiting: 7,
  /** A second Ctrl-C during `run` (or Ctrl-C at its prompt): exited at once; the run may go on. */
  interrupted: 130,
  /** `exec`: the program ran past its `timeoutMs` (as timeout(1) does). */
  execTimedOut: 124,
  /** `exec`: the program ran out of memory (128 + SIGKILL, as a shell reports it). */
  execOomKilled: 137,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
