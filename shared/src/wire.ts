import { z } from "zod";
import { AgentHealth, ExecutionOutcome, Language, WorkspaceFile } from "./api.ts";
import { ErrorInfo } from "./errors.ts";
import { ExecutionId, Name } from "./ids.ts";
import { Limits } from "./limits.ts";

/**
 * The agent wire protocol: JSON text frames over one WebSocket that the agent
 * dials out to `GET /v1/agents/connect`. Every frame has a namespaced `type`.
 *
 *   agent → worker: agent.hello, agent.heartbeat, exec.output, exec.finished, error
 *   worker → agent: worker.welcome, exec.start, exec.cancel, drain, error
 *
 * The agent says hello first; the Worker answers welcome (or closes with
 * CLOSE_CODES.incompatibleVersion). `exec.output` frames of one execution carry
 * `seq` 0, 1, 2, ... in order; `exec.finished` carries the next seq after them.
 */

/** Most bytes one frame may have (an exec.start with its files is the largest). */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;

export const Hello = z.object({
  type: z.literal("agent.hello"),
  protocolVersion: z.number().int(),
  agentId: Name,
  version: z.string().max(64),
  capacity: z.number().int().min(1).max(1024),
  labels: z.record(z.string().max(64), z.string().max(256)).default({}),
  /** language → image the agent runs it in. */
  images: z.partialRecord(Language, z.string().max(256)),
  /** Executions still running from before a reconnect (they finish or are cancelled). */
  inFlight: z.number().int().min(0).default(0),
});
export type Hello = z.infer<typeof Hello>;

export const Welcome = z.object({
  type: z.literal("worker.welcome"),
  protocolVersion: z.number().int(),
  pool: z.string(),
  heartbeatMs: z.number().int().positive(),
});
export type Welcome = z.infer<typeof Welcome>;

export const Heartbeat = z.object({
  type: z.literal("agent.heartbeat"),
  inFlight: z.number().int().min(0),
  /** A draining agent finishes what it runs and is given nothing new. */
  draining: z.boolean().default(false),
  /** Absent from agents older than this field, and in the first interval. */
  health: AgentHealth.optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

export const ExecStart = z.object({
  type: z.literal("exec.start"),
  executionId: ExecutionId,
  language: Language,
  code: z.string(),
  files: z.array(WorkspaceFile),
  stdin: z.string().optional(),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  limits: Limits,
});
export type ExecStart = z.infer<typeof ExecStart>;

export const ExecOutput = z.object({
  type: z.literal("exec.output"),
  executionId: ExecutionId,
  seq: z.number().int().min(0),
  stream: z.enum(["stdout", "stderr"]),
  data: z.string(),
});
export type ExecOutput = z.infer<typeof ExecOutput>;

export const ExecFinished = z.object({
  type: z.literal("exec.finished"),
  executionId: ExecutionId,
  seq: z.number().int().min(0),
  outcome: ExecutionOutcome,
});
export type ExecFinished = z.infer<typeof ExecFinished>;

export const ExecCancel = z.object({
  type: z.literal("exec.cancel"),
  executionId: ExecutionId,
  reason: z.string().max(256).optional(),
});
export type ExecCancel = z.infer<typeof ExecCancel>;

/** Worker → agent: finish what you run, take nothing new. */
export const Drain = z.object({ type: z.literal("drain"), reason: z.string().max(256).optional() });
export type Drain = z.infer<typeof Drain>;

/** Either side: a frame was refused. `executionId` names the execution it concerned, if any. */
export const WireError = z.object({
  type: z.literal("error"),
  error: ErrorInfo,
  executionId: ExecutionId.optional(),
});
export type WireError = z.infer<typeof WireError>;

export const AgentFrame = z.discriminatedUnion("type", [Hello, Heartbeat, ExecOutput, ExecFinished, WireError]);
export type AgentFrame = z.infer<typeof AgentFrame>;

export const WorkerFrame = z.discriminatedUnion("type", [Welcome, ExecStart, ExecCancel, Drain, WireError]);
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
