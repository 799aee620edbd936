/**
 * @edgeswarm/client: the TypeScript SDK for the edgeswarm HTTP API (the
 * `edgeswarm` CLI lives in ./cli and is not part of this surface).
 */

export type {
  AgentSummary,
  ErrorBody,
  ErrorCode,
  EventPage,
  ExecutionEvent,
  ExecutionRequestInput,
  ExecutionResult,
  ExecutionStatus,
  RunEvent,
  RunEventType,
  RunList,
  RunRequestInput,
  RunStatus,
  RunSummary,
  RunView,
  SendMessageRequest,
  StopCondition,
  Team,
  TeamInput,
  TeamMessage,
  TeamStateExport,
  TeamStateExportInput,
  Termination,
} from "@edgeswarm/shared";
export type { Agents } from "./sdk/agents.ts";
export { type WaitingCall, WaitingCalls, waitingCalls } from "./sdk/approvals.ts";
export { Edgeswarm, type EdgeswarmOptions } from "./sdk/client.ts";
export {
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  EdgeswarmApiError,
  EdgeswarmError,
  EdgeswarmUnreachableError,
} from "./sdk/errors.ts";
export type { Executions } from "./sdk/executions.ts";
export { DEFAULT_RETRY, type RetryOptions } from "./sdk/retry.ts";
export type { FollowOptions } from "./sdk/run-events.ts";
export { isTerminal, type RunCreated, type Runs } from "./sdk/runs.ts";
export { parseSse, type SseMessage } from "./sdk/sse.ts";
export type { CallOptions } from "./sdk/transport.ts";
