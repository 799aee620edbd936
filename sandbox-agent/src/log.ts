/** The agent's log: one line per event on stderr, with a level word. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(debug = process.env.EDGESWARM_DEBUG === "1"): Logger {
  const line = (level: string, message: string) =>
    process.stderr.write(`${new Date().toISOString()} edgeswarm-agent ${level} ${message}\n`);
  return {
    debug: (m) => debug && line("debug", m),
    info: (m) => line("info", m),
    warn: (m) => line("warn", m),
    error: (m) => line("error", m),
  };
}
