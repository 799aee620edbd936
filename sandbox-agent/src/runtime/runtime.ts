import type { ExecStart, ExecutionOutcome, Language } from "@edgeswarm/shared";
import type { Context } from "@opentelemetry/api";

/** What a runtime needs to run one execution: the exec.start frame and the image. */
export type RunSpec = Omit<ExecStart, "type" | "window"> & { image: string };

/**
 * Lets the agent hold a sandbox's output while it cannot send it on (the
 * Worker's window for the execution is spent): the runtime stops reading the
 * container's output while `held`, so the program waits on its own writes.
 */
export interface OutputGate {
  readonly held: boolean;
  /** Called when `held` changes. */
  onHold: (held: boolean) => void;
}

/** Receives output in order, already decoded to text (invalid UTF-8 becomes U+FFFD). */
export type OutputSink = (stream: "stdout" | "stderr", data: string) => void;

/**
 * Runs each execution in a fresh, hardened sandbox and destroys it afterwards.
 * The Docker implementation is in docker.ts; gVisor is the same with another
 * OCI runtime.
 */
export interface SandboxRuntime {
  /**
   * Runs one execution. Resolves with how it ended, never rejects: a sandbox
   * failure is `status: "error"` with `error.code: "sandbox_error"`. Aborting
   * `signal` kills the sandbox and resolves `status: "cancelled"`. The
   * runtime's spans are children of `parent`'s span.
   */
  run(
    spec: RunSpec,
    sink: OutputSink,
    signal: AbortSignal,
    gate?: OutputGate,
    parent?: Context,
  ): Promise<ExecutionOutcome>;
  /**
   * Removes every sandbox labelled with this agent id that this runtime does
   * not hold (warm or running): at start, an earlier life's leftovers; later,
   * a periodic sweep for anything a failed removal left.
   */
  reap(): Promise<number>;
  /** Warm sandboxes ready to take an execution now. */
  readonly warm: number;
  /** Destroys the warm sandboxes and waits for pending removals; call on shutdown. */
  close(): Promise<void>;
}

/** Container labels that name the owner of each sandbox. */
export const LABELS = {
  managed: "edgeswarm.managed",
  agent: "edgeswarm.agent",
} as const;

export type ImageMap = Partial<Record<Language, string>>;
