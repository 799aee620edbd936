import { z } from "zod";
import {
  AgentHealth,
  AgentSandboxes,
  ExecutionOutcome,
  FileEncoding,
  Language,
  WorkspaceFile,
  WorkspacePath,
} from "./api.ts";
import { ErrorInfo } from "./errors.ts";
import { ExecutionId, Name } from "./ids.ts";
import { Limits } from "./limits.ts";
import { TraceCarrier } from "./trace.ts";

/**
 * The agent wire protocol: JSON text frames over one WebSocket that the agent
 * dials out to `GET /v1/agents/connect`. Every frame has a namespaced `type`.
 *
 *   agent → worker: agent.hello, agent.heartbeat, exec.accepted, exec.output,
 *                   exec.file, exec.finished, error
 *   worker → agent: worker.welcome, exec.start, exec.credit, exec.cancel, error
 *
 * The agent says hello first; the Worker answers welcome (or closes with
 * CLOSE_CODES.incompatibleVersion). An agent acknowledges each exec.start with
 * exec.accepted within `ackTimeoutMs`, or the execution goes to another agent.
 * Then `exec.output` and `exec.file` frames of one execution carry `seq` 0, 1,
 * 2, ... in order, and `exec.finished` carries the next seq after them.
 *
 * Flow control: exec.start gives the execution a window, in characters of
 * frame text. The agent sends exec.output and exec.file frames only while its
 * window is above zero, spending each frame's length, and the Worker gives the
 * window back (exec.credit) as the execution's caller takes the events. A
 * caller that does not read so holds the agent, and the program's output
 * waits in the sandbox, not in the Worker.
 *
 * exec.cancel ends an execution on the Worker's side: it gives no more window
 * for it and takes nothing more of it, so the agent kills its sandbox and
 * drops whatever of it waits to be sent.
 */

/** Most characters of a frame the Worker sends (an exec.start with its files is the largest). */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;
/** Most characters of a frame an agent sends. Output and files travel in pieces well under this. */
export const MAX_AGENT_FRAME_CHARS = 1024 * 1024;
/** Most characters of output data in one exec.output frame. */
export const MAX_OUTPUT_PIECE_CHARS = 256 * 1024;
/** Most characters of file content in one exec.file frame. */
export const MAX_FILE_PIECE_CHARS = 512 * 1024;
/** Most characters of a text the agent reports (an error's message). Longer ones are cut. */
export const MAX_REPORT_CHARS = 4096;

export const Hello = z.object({
  type: z.literal("agent.hello"),
  protocolVersion: z.number().int(),
  agentId: Name,
  version: z.string().max(64),
  /** Executions run at once; the Worker cuts it to the agent token's `maxCapacity`. */
  capacity: z.number().int().min(1).max(1024),
  labels: z
    .record(z.string().min(1).max(64), z.string().max(256))
    .refine((labels) => Object.keys(labels).length <= 32, { message: "at most 32 labels" })
    .default({}),
  /** language → image the agent runs it in. */
  images: z.partialRecord(Language, z.string().max(256)),
  /** Executions still running from before a reconnect (they finish or are cancelled). */
  inFlight: z.number().int().min(0).default(0),
  /**
   * What its images hold, read from them at start. Optional, so older agents,
   * which omit it, speak the same protocol version.
   */
  sandboxes: AgentSandboxes.optional(),
});
export type Hello = z.infer<typeof Hello>;

export const Welcome = z.object({
  type: z.literal("worker.welcome"),
  protocolVersion: z.number().int(),
  pool: z.string(),
  heartbeatMs: z.number().int().positive(),
  /** How long the agent has to answer exec.start with exec.accepted. */
  ackTimeoutMs: z.number().int().positive(),
  /** The capacity the Worker holds the agent to (its own, or the token's most, if lower). */
  capacity: z.number().int().min(1),
});
export type Welcome = z.infer<typeof Welcome>;

export const Heartbeat = z.object({
  type: z.literal("agent.heartbeat"),
  inFlight: z.number().int().min(0),
  /** A draining agent finishes what it runs and is given nothing new. */
  draining: z.boolean().default(false),
  /** Absent in the first interval. */
  health: AgentHealth.optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/** What one execution needs: the program, its files and its resolved limits. */
export const ExecutionSpec = z.object({
  language: Language,
  code: z.string(),
  files: z.array(WorkspaceFile),
  stdin: z.string().optional(),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  limits: Limits,
});
export type ExecutionSpec = z.infer<typeof ExecutionSpec>;

export const ExecStart = ExecutionSpec.extend({
  type: z.literal("exec.start"),
  executionId: ExecutionId,
  /** The execution's first flow-control window, in characters of frame text. */
  window: z.number().int().positive(),
  /**
   * The Worker's span for this lease (W3C Trace Context): the agent's spans
   * for the execution are its children. Optional, so an agent ignores it
   * without a new protocol version.
   */
  trace: TraceCarrier.optional(),
});
export type ExecStart = z.infer<typeof ExecStart>;

/** Worker → agent: the caller took events; `chars` more of window. */
export const ExecCredit = z.object({
  type: z.literal("exec.credit"),
  executionId: ExecutionId,
  chars: z.number().int().positive(),
});
export type ExecCredit = z.infer<typeof ExecCredit>;

/** Agent → worker: the exec.start arrived and the agent took it. */
export const ExecAccepted = z.object({
  type: z.literal("exec.accepted"),
  executionId: ExecutionId,
});
export type ExecAccepted = z.infer<typeof ExecAccepted>;

export const ExecOutput = z.object({
  type: z.literal("exec.output"),
  executionId: ExecutionId,
  seq: z.number().int().min(0),
  stream: z.enum(["stdout", "stderr"]),
  data: z.string().max(MAX_OUTPUT_PIECE_CHARS),
});
export type ExecOutput = z.infer<typeof ExecOutput>;

/**
 * One piece of a returned file. A file's pieces come one after another, `more`
 * on all but its last; `encoding` is the same on each.
 */
export const ExecFile = z.object({
  type: z.literal("exec.file"),
  executionId: ExecutionId,
  seq: z.number().int().min(0),
  path: WorkspacePath,
  encoding: FileEncoding,
  data: z.string().max(MAX_FILE_PIECE_CHARS),
  more: z.boolean(),
});
export type ExecFile = z.infer<typeof ExecFile>;

/** How an execution ended, on the wire: its files came before, as exec.file frames. */
export const WireOutcome = ExecutionOutcome.omit({ files: true }).extend({ signal: z.string().max(32).nullable() });
export type WireOutcome = z.infer<typeof WireOutcome>;

export const ExecFinished = z.object({
  type: z.literal("exec.finished"),
  executionId: ExecutionId,
  seq: z.number().int().min(0),
  outcome: WireOutcome,
});
export type ExecFinished = z.infer<typeof ExecFinished>;

export const ExecCancel = z.object({
  type: z.literal("exec.cancel"),
  executionId: ExecutionId,
  reason: z.string().max(256).optional(),
});
export type ExecCancel = z.infer<typeof ExecCancel>;

/** Either side: a frame was refused. `executionId` names the execution it concerned, if any. */
export const WireError = z.object({
  type: z.literal("error"),
  error: ErrorInfo,
  executionId: ExecutionId.optional(),
});
export type WireError = z.infer<typeof WireError>;

export const AgentFrame = z.discriminatedUnion("type", [
  Hello,
  Heartbeat,
  ExecAccepted,
  ExecOutput,
  ExecFile,
  ExecFinished,
  WireError,
]);
export type AgentFrame = z.infer<typeof AgentFrame>;

export const WorkerFrame = z.discriminatedUnion("type", [Welcome, ExecStart, ExecCredit, ExecCancel, WireError]);
export type WorkerFrame = z.infer<typeof WorkerFrame>;

/** Parses one text frame; a failure names what was wrong, for the `error` reply. */
export function parseFrame<T extends z.ZodType>(
  schema: T,
  text: string,
): { ok: true; frame: z.infer<T> } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: "frame is not valid JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, message: `frame does not match the protocol: ${z.prettifyError(parsed.error)}` };
  }
  return { ok: true, frame: parsed.data };
}

/**
 * The execution a frame's text names near its start (`"executionId":"ex_…"`),
 * read without parsing it: for a frame too large to parse, so that only that
 * execution fails.
 */
export function executionIdOf(text: string): string | undefined {
  return /"executionId"\s*:\s*"(ex_[0-9a-f]{24})"/.exec(text.slice(0, 256))?.[1];
}
