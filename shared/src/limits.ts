import { z } from "zod";

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Per-execution resource limits: the default applied when a request names none,
 * and the hard maximum a request may ask for. Requests above a maximum are
 * refused with 400 `invalid_request`, never silently clamped.
 */
export const LIMITS = {
  timeoutMs: { min: 100, default: 30_000, max: 300_000 },
  memoryMb: { min: 32, default: 256, max: 4_096 },
  cpus: { min: 0.1, default: 1, max: 4 },
  pids: { min: 8, default: 128, max: 1_024 },
  outputBytes: { min: 1 * KiB, default: 1 * MiB, max: 16 * MiB },
} as const;

/** Fixed sandbox sizes (not yet per-request; see the README's limits table). */
export const SANDBOX = {
  workspaceBytes: 64 * MiB,
  tmpBytes: 64 * MiB,
  shmBytes: 16 * MiB,
  openFiles: 256,
  fileSizeBytes: 64 * MiB,
  returnedFiles: 100,
  returnedFileBytes: 8 * MiB,
  returnedTotalBytes: 16 * MiB,
} as const;

/** Request-shape maxima, enforced by the schemas in api.ts. */
export const REQUEST_MAXIMA = {
  bodyBytes: 16 * MiB,
  codeBytes: 1 * MiB,
  stdinBytes: 4 * MiB,
  files: 100,
  fileBytes: 8 * MiB,
  filePathChars: 255,
  args: 64,
  argChars: 4_096,
  envVars: 64,
  envValueChars: 4_096,
} as const;

function bounded(name: keyof typeof LIMITS, int: boolean) {
  const { min, max } = LIMITS[name];
  const base = int ? z.number().int() : z.number();
  return base
    .min(min, { message: `${name} must be at least ${min}` })
    .max(max, { message: `${name} must be at most ${max}` });
}

/** Limits as a request may give them: every field optional, each within its bounds. */
export const LimitsInput = z
  .object({
    timeoutMs: bounded("timeoutMs", true).optional(),
    memoryMb: bounded("memoryMb", true).optional(),
    cpus: bounded("cpus", false).optional(),
    pids: bounded("pids", true).optional(),
    outputBytes: bounded("outputBytes", true).optional(),
  })
  .strict();
export type LimitsInput = z.infer<typeof LimitsInput>;

/** Limits with every default filled in, as the Worker sends them to an agent. */
export const Limits = z.object({
  timeoutMs: bounded("timeoutMs", true),
  memoryMb: bounded("memoryMb", true),
  cpus: bounded("cpus", false),
  pids: bounded("pids", true),
  outputBytes: bounded("outputBytes", true),
});
export type Limits = z.infer<typeof Limits>;

/** Fills in defaults. */
export function resolveLimits(input: LimitsInput = {}): Limits {
  return {
    timeoutMs: input.timeoutMs ?? LIMITS.timeoutMs.default,
    memoryMb: input.memoryMb ?? LIMITS.memoryMb.default,
    cpus: input.cpus ?? LIMITS.cpus.default,
    pids: input.pids ?? LIMITS.pids.default,
    outputBytes: input.outputBytes ?? LIMITS.outputBytes.default,
  };
}
