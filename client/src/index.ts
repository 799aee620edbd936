/**
 * @edgeswarm/client: for now, the protocol types a caller of the HTTP API
 * needs. The SDK and CLI come in a later milestone.
 */
export type {
  AgentList,
  AgentSummary,
  ErrorBody,
  ExecutionEvent,
  ExecutionRequestInput,
  ExecutionResult,
  ExecutionStatus,
} from "@edgeswarm/shared";
