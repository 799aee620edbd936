import { z } from "zod";

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Per-execution limits: the default applied when a request names none, and the
 * maximum a request may ask for. Requests outside the bounds are refused with
 * 400 `invalid_request` naming the field, never silently clamped. Sizes in
 * `...Mb` are MiB; `outputBytes` applies to stdout and to stderr separately.
 */
export const LIMITS = {
  timeoutMs: { min: 100, default: 30_000, max: 300_000, int: true },
  memoryMb: { min: 32, default: 256, max: 4_096, int: true },
  cpus: { min: 0.1, default: 1, max: 4, int: false },
  pids: { min: 8, default: 128, max: 1_024, int: true },
  outputBytes: { min: 1 * KiB, default: 1 * MiB, max: 16 * MiB, int: true },
  openFiles: { min: 16, default: 256, max: 4_096, int: true },
  fileSizeMb: { min: 1, default: 64, max: 1_024, int: true },
  workspaceMb: { min: 1, default: 64, max: 1_024, int: true },
  tmpMb: { min: 1, default: 64, max: 1_024, int: true },
  shmMb: { min: 1, default: 16, max: 256, int: true },
  returnedFiles: { min: 0, default: 100, max: 1_000, int: true },
  returnedFileBytes: { min: 1 * KiB, default: 8 * MiB, max: 8 * MiB, int: true },
  returnedTotalBytes: { min: 1 * KiB, default: 16 * MiB, max: 16 * MiB, int: true },
} as const;

export type LimitName = keyof typeof LIMITS;
export const LIMIT_NAMES = Object.keys(LIMITS) as LimitName[];

/**
 * The limits that shape the container itself (cgroup and mounts), as opposed to
 * those the in-sandbox runner applies per execution. A warm sandbox is made for
 * one set of these.
 */
export const CONTAINER_LIMITS = [
  "memoryMb",
  "cpus",
  "pids",
  "workspaceMb",
  "tmpMb",
  "shmMb",
] as const satisfies readonly LimitName[];

/**
 * How long an execution may wait in its pool's queue for a free slot:
 * `queueTimeoutMs` of an execution, `limits.queueTimeoutMs` of a run. 0 means
 * not at all (answer `no_capacity` at once).
 */
export const QUEUE_TIMEOUT_MS = { min: 0, default: 30_000, max: 600_000 } as const;

export const QueueTimeoutMs = z
  .number()
  .int({ message: "queueTimeoutMs must be a whole number" })
  .min(QUEUE_TIMEOUT_MS.min, { message: `queueTimeoutMs must be at least ${QUEUE_TIMEOUT_MS.min}` })
  .max(QUEUE_TIMEOUT_MS.max, { message: `queueTimeoutMs must be at most ${QUEUE_TIMEOUT_MS.max}` });

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

function bounded(name: LimitName) {
  const { min, max, int } = LIMITS[name];
  const base = int ? z.number().int({ message: `${name} must be a whole number` }) : z.number();
  return base
    .min(min, { message: `${name} must be at least ${min}` })
    .max(max, { message: `${name} must be at most ${max}` });
}

function shape<T>(field: (name: LimitName) => T): { [K in LimitName]: T } {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, field(name)])) as { [K in LimitName]: T };
}

/** Limits as a request may give them: every field optional, each within its bounds. */
export const LimitsInput = z.object(shape((name) => bounded(name).optional())).strict();
export type LimitsInput = z.infer<typeof LimitsInput>;

/** Limits with every default filled in, as the Worker sends them to an agent. */
export const Limits = z.object(shape(bounded));
export type Limits = z.infer<typeof Limits>;

/** The defaults, for every limit. */
export const DEFAULT_LIMITS: Limits = shape((name) => LIMITS[name].default);

/** Fills in defaults. */
export function resolveLimits(input: LimitsInput = {}): Limits {
  return shape((name) => input[name] ?? LIMITS[name].default);
}
