import type { RunStatus } from "@edgeswarm/shared";
import { EXIT_CODES } from "../exit-codes.ts";

/** The exit code for a run that ended with `status` (or that `run` left waiting for input). */
export function runExitCode(status: RunStatus): number {
  switch (status) {
    case "succeeded":
      return EXIT_CODES.ok;
    case "cancelled":
      return EXIT_CODES.cancelled;
    case "timed_out":
      return EXIT_CODES.timedOut;
    case "awaiting_input":
      return EXIT_CODES.waiting;
    default:
      return EXIT_CODES.failed;
  }
}
