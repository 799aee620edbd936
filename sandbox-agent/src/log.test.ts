import { describe, expect, it } from "vitest";
import { createLogger } from "./log.ts";

describe("the agent's log", () => {
  it("writes one JSON object per line with the level, message, agent id, execution id and trace id", () => {
    const lines: string[] = [];
    const log = createLogger(false, (line) => lines.push(line));
    log.configure({ format: "json", agentId: "host-1" });
    log.info('execution finished: "succeeded"\nnext', { executionId: "ex_1", traceId: "ab".repeat(16) });
    log.debug("not written");
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    expect(lines[0]?.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: "info",
      message: 'execution finished: "succeeded"\nnext',
      agentId: "host-1",
      executionId: "ex_1",
      traceId: "ab".repeat(16),
    });
  });

  it("writes text by default, with the fields after the message", () => {
    const lines: string[] = [];
    const log = createLogger(false, (line) => lines.push(line));
    log.warn("slow", { executionId: "ex_2" });
    expect(lines[0]).toMatch(/^\S+ edgeswarm-agent warn slow executionId=ex_2\n$/);
  });
});
