/** What a log line may say beside its message: which execution, in which trace. */
export interface LogFields {
  executionId?: string;
  traceId?: string;
  [key: string]: string | number | boolean | undefined;
}

/** The agent's log: one line per event on stderr. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Set once the configuration is known: the format, and the agent id every line then names. */
  configure(options: { format: "text" | "json"; agentId: string }): void;
}

type Level = "debug" | "info" | "warn" | "error";

/**
 * A logger to stderr. Text lines read `<time> edgeswarm-agent <level> <message>`
 * with any fields after as `key=value`; JSON lines are one object each:
 * `{time, level, message, agentId, executionId?, traceId?, ...}`, for a log
 * pipeline to index.
 */
export function createLogger(
  debug = process.env.EDGESWARM_DEBUG === "1",
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  let format: "text" | "json" = "text";
  let agentId: string | undefined;
  const line = (level: Level, message: string, fields: LogFields = {}) => {
    const time = new Date().toISOString();
    if (format === "json") {
      write(`${JSON.stringify({ time, level, message, agentId, ...fields })}\n`);
      return;
    }
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ` ${k}=${v}`)
      .join("");
    write(`${time} edgeswarm-agent ${level} ${message}${extra}\n`);
  };
  return {
    debug: (m, f) => debug && line("debug", m, f),
    info: (m, f) => line("info", m, f),
    warn: (m, f) => line("warn", m, f),
    error: (m, f) => line("error", m, f),
    configure: (options) => {
      format = options.format;
      agentId = options.agentId;
    },
  };
}
