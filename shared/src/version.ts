/**
 * The agent wire protocol version. An agent whose `hello` names another version
 * is refused with close code {@link CLOSE_CODES.incompatibleVersion}.
 * Bump it on any change a peer of the old version would misread.
 *
 * 2: exec.accepted acknowledges each exec.start; returned files travel as
 * exec.file pieces; output and files are flow-controlled (window, exec.credit).
 */
export const PROTOCOL_VERSION = 2;

/** The version of this release of edgeswarm, reported by agents and /healthz. */
export const EDGESWARM_VERSION = "0.1.0";

/** WebSocket close codes the Worker and agents use (4000-4999 are application codes). */
export const CLOSE_CODES = {
  /** Normal shutdown, for example an agent draining on SIGTERM. */
  normal: 1000,
  /** The peer broke the protocol (too many malformed frames, hello twice, ...). */
  protocolError: 4000,
  /** The agent speaks a protocol version this Worker does not. Do not retry unchanged. */
  incompatibleVersion: 4001,
  /** The agent did not say hello in time. */
  helloTimeout: 4002,
  /** Another connection with the same agent id replaced this one. */
  replaced: 4003,
  /** The agent missed its heartbeats. */
  heartbeatTimeout: 4004,
  /** The agent id is connected with another agent token: ids belong to the token that holds them. */
  idInUse: 4005,
} as const;
