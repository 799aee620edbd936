import { z } from "zod";
import { type ErrorCode, ErrorInfo } from "./errors.ts";
import { ExecutionId, Name } from "./ids.ts";
import { LimitsInput, REQUEST_MAXIMA as MAX, QUEUE_TIMEOUT_MS, QueueTimeoutMs } from "./limits.ts";
import { TraceId } from "./trace.ts";

/** Languages an execution may ask for; an agent runs those its images provide. */
export const LANGUAGES = ["python", "bash", "node"] as const;
export const Language = z.enum(LANGUAGES);
export type Language = z.infer<typeof Language>;

function hasControlOrBackslash(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return true;
  }
  return false;
}

/** Bytes of one path segment: the longest name a Linux file system takes. */
const MAX_SEGMENT_BYTES = 255;

/**
 * A workspace-relative path: no leading `/`, no `..` segment, no empty segment,
 * no NUL or control character. Checked here and again inside the sandbox.
 */
export const WorkspacePath = z
  .string()
  .min(1)
  .max(MAX.filePathChars)
  .refine(
    (p) =>
      !p.startsWith("/") && !hasControlOrBackslash(p) && p.split("/").every((s) => s !== "" && s !== "." && s !== ".."),
    { message: "must be a relative path inside the workspace, without '..', '.' or empty segments" },
  )
  .refine((p) => p.split("/").every((s) => new TextEncoder().encode(s).length <= MAX_SEGMENT_BYTES), {
    message: `each part of a path must be at most ${MAX_SEGMENT_BYTES} bytes (a file system's name limit)`,
  });

/**
 * Why a set of files cannot all be written, or null: two with the same path,
 * or one whose path runs through another's (`a` and `a/b`).
 */
export function fileSetProblem(paths: readonly string[]): string | null {
  const set = new Set<string>();
  for (const p of paths) {
    if (set.has(p)) return `file paths must be unique ('${p}' twice)`;
    set.add(p);
  }
  for (const p of paths) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (set.has(dir)) return `'${dir}' is a file, so '${p}' cannot be inside it`;
    }
  }
  return null;
}

export const FileEncoding = z.enum(["utf8", "base64"]);
export type FileEncoding = z.infer<typeof FileEncoding>;

/** A file placed in, or returned from, the sandbox workspace. */
export const WorkspaceFile = z
  .object({
    path: WorkspacePath,
    content: z.string().max(Math.ceil((MAX.fileBytes * 4) / 3) + 4),
    encoding: FileEncoding.default("utf8"),
  })
  .strict();
export type WorkspaceFile = z.infer<typeof WorkspaceFile>;

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, { message: "must be a valid variable name" });

/** Text a process receives through execve, which ends each string at a NUL. */
const NoNul = z.string().regex(/^[^\0]*$/, { message: "must not contain a NUL character" });

/** `POST /v1/executions` body. */
export const ExecutionRequest = z
  .object({
    language: Language,
    code: z.string().max(MAX.codeBytes, { message: `code must be at most ${MAX.codeBytes} characters` }),
    files: z.array(WorkspaceFile).max(MAX.files).default([]),
    stdin: z.string().max(MAX.stdinBytes).optional(),
    args: z.array(NoNul.max(MAX.argChars)).max(MAX.args).default([]),
    env: z
      .record(EnvName, NoNul.max(MAX.envValueChars))
      .refine((e) => Object.keys(e).length <= MAX.envVars, { message: `at most ${MAX.envVars} variables` })
      .default({}),
    limits: LimitsInput.default({}),
    /** How long to wait for a free sandbox slot before answering 503 `no_capacity`. */
    queueTimeoutMs: QueueTimeoutMs.default(QUEUE_TIMEOUT_MS.default),
    network: z.enum(["none"]).default("none"),
    pool: Name.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const problem = fileSetProblem(r.files.map((f) => f.path));
    if (problem) ctx.addIssue({ code: "custom", message: problem, path: ["files"] });
  });
export type ExecutionRequest = z.infer<typeof ExecutionRequest>;
export type ExecutionRequestInput = z.input<typeof ExecutionRequest>;

export const EXECUTION_STATUSES = [
  "succeeded",
  "failed",
  "timed_out",
  "oom_killed",
  "output_limited",
  "cancelled",
  "error",
] as const;
export const ExecutionStatus = z.enum(EXECUTION_STATUSES);
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;

/** How an execution ended, as the agent reports it (no output: that streamed before). */
export const ExecutionOutcome = z.object({
  status: ExecutionStatus,
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  durationMs: z.number().nonnegative(),
  truncated: z.object({ stdout: z.boolean(), stderr: z.boolean() }),
  files: z.array(WorkspaceFile),
  /** Set when `status` is `error`, or to explain a partial result (files skipped). */
  error: ErrorInfo.optional(),
});
export type ExecutionOutcome = z.infer<typeof ExecutionOutcome>;

/** The outcome of an execution that never ran or never reported: status `error` with why. */
export function errorOutcome(code: ErrorCode, message: string): ExecutionOutcome {
  return {
    status: "error",
    exitCode: null,
    signal: null,
    durationMs: 0,
    truncated: { stdout: false, stderr: false },
    files: [],
    error: { code, message },
  };
}

/** How an execution ended and where it ran: the `finished` event's data. */
export const ExecutionSummary = ExecutionOutcome.extend({
  id: ExecutionId,
  agentId: z.string().nullable(),
  /** The W3C trace this execution is part of: the request's, or the run's. */
  traceId: TraceId.optional(),
});
export type ExecutionSummary = z.infer<typeof ExecutionSummary>;

/** `POST /v1/executions` JSON answer: the summary and the whole output. */
export const ExecutionResult = ExecutionSummary.extend({
  stdout: z.string(),
  stderr: z.string(),
});
export type ExecutionResult = z.infer<typeof ExecutionResult>;

/**
 * The events of one execution, in order: `queued` while it waits for a slot
 * (its place in the pool's queue, 1 = next), `started`, any number of `stdout`
 * and `stderr`, then exactly one `finished`. The SSE answer sends each as an
 * event of the same name with this object as its JSON data.
 */
export const ExecutionEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("queued"), position: z.number().int().min(1) }),
  z.object({ type: z.literal("started"), id: ExecutionId, agentId: z.string() }),
  z.object({ type: z.literal("stdout"), data: z.string() }),
  z.object({ type: z.literal("stderr"), data: z.string() }),
  z.object({ type: z.literal("finished"), result: ExecutionSummary }),
]);
export type ExecutionEvent = z.infer<typeof ExecutionEvent>;

/**
 * How the agent process itself is doing, over the last heartbeat interval:
 * its memory, its event-loop delay (perf_hooks.monitorEventLoopDelay) and its
 * warm sandboxes ready to take an execution.
 */
export const AgentHealth = z.object({
  rssBytes: z.number().int().nonnegative(),
  heapUsedBytes: z.number().int().nonnegative(),
  loopDelayP50Ms: z.number().nonnegative(),
  loopDelayP99Ms: z.number().nonnegative(),
  loopDelayMaxMs: z.number().nonnegative(),
  /** The interval these figures cover. */
  windowMs: z.number().nonnegative(),
  /** Warm sandboxes waiting for an execution, over all images. */
  warm: z.number().int().nonnegative(),
});
export type AgentHealth = z.infer<typeof AgentHealth>;

/**
 * What an agent's images hold, per language: the image, its interpreter and
 * the packages in it. The agent reads it from each image once at start and
 * sends it in agent.hello; `GET /v1/agents` shows it. Bounded, because an
 * agent's word is untrusted: an agent trims to these bounds before sending.
 */
export const SANDBOX_BOUNDS = {
  /** Most packages listed per language. */
  packages: 256,
  /** Characters of a package name (Python distribution names, normalised). */
  nameChars: 100,
  /** Characters of a version, a package's or an interpreter's. */
  versionChars: 64,
  /** Characters of an interpreter's name, e.g. "python". */
  interpreterChars: 32,
} as const;

/**
 * What a package name and a version may look like: PEP 508's name, a version's
 * usual characters. These reach the planner's and coder's prompts, so an
 * agent (or a package's own metadata) cannot put words there.
 */
export const PACKAGE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
export const VERSION_TEXT = /^[A-Za-z0-9][A-Za-z0-9.+!_-]*$/;

export const SandboxInterpreter = z.object({
  name: z
    .string()
    .min(1)
    .max(SANDBOX_BOUNDS.interpreterChars)
    .regex(/^[a-z][a-z0-9_-]*$/),
  version: z.string().min(1).max(SANDBOX_BOUNDS.versionChars).regex(VERSION_TEXT),
});
export type SandboxInterpreter = z.infer<typeof SandboxInterpreter>;

/**
 * One language's sandbox on one agent.
 *
 * @example
 * { language: "python", image: "edgeswarm/python:latest",
 *   interpreter: { name: "python", version: "3.11.2" },
 *   packages: { numpy: "1.24.2", pandas: "1.5.3" } }
 */
export const AgentSandbox = z.object({
  language: Language,
  image: z.string().min(1).max(256),
  /** Absent when the agent could not read it from the image. */
  interpreter: SandboxInterpreter.optional(),
  /** Package name → version; empty when the image has none the agent could read. */
  packages: z
    .record(
      z.string().min(1).max(SANDBOX_BOUNDS.nameChars).regex(PACKAGE_NAME),
      z.string().max(SANDBOX_BOUNDS.versionChars).regex(VERSION_TEXT),
    )
    .refine((packages) => Object.keys(packages).length <= SANDBOX_BOUNDS.packages, {
      message: `at most ${SANDBOX_BOUNDS.packages} packages`,
    }),
});
export type AgentSandbox = z.infer<typeof AgentSandbox>;

/** Every language's sandbox on one agent, one entry per language at most. */
export const AgentSandboxes = z
  .array(AgentSandbox)
  .max(LANGUAGES.length)
  .refine((list) => new Set(list.map((s) => s.language)).size === list.length, {
    message: "one sandbox per language",
  });
export type AgentSandboxes = z.infer<typeof AgentSandboxes>;

/** One connected agent, as `GET /v1/agents` lists it. */
export const AgentSummary = z.object({
  id: z.string(),
  pool: z.string(),
  version: z.string(),
  capacity: z.number().int(),
  inFlight: z.number().int(),
  labels: z.record(z.string(), z.string()),
  languages: z.array(Language),
  connectedAt: z.string(),
  lastHeartbeatAt: z.string(),
  /** From the agent's latest heartbeat that carried it. */
  health: AgentHealth.optional(),
  /** What its images hold, as it said in its hello; absent for agents that do not say. */
  sandboxes: AgentSandboxes.optional(),
});
export type AgentSummary = z.infer<typeof AgentSummary>;

export const AgentList = z.object({ agents: z.array(AgentSummary) });
export type AgentList = z.infer<typeof AgentList>;
