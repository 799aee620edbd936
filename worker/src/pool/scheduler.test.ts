import { describe, expect, it } from "vitest";
import { type Candidate, pickAgent } from "./scheduler.ts";

const agent = (agentId: string, capacity: number, inFlight: number, languages = ["python"] as const) =>
  ({ ref: agentId, agentId, capacity, inFlight, languages: [...languages] }) satisfies Candidate<string>;

describe("pickAgent", () => {
  it("picks the least loaded agent with a free slot", () => {
    const pick = pickAgent([agent("a", 4, 3), agent("b", 4, 1), agent("c", 2, 1)], "python");
    expect(pick).toMatchObject({ ok: true, candidate: { agentId: "b" } });
  });

  it("breaks load ties by free slots, then by id", () => {
    expect(pickAgent([agent("a", 2, 1), agent("b", 4, 2)], "python")).toMatchObject({ candidate: { agentId: "b" } });
    expect(pickAgent([agent("b", 2, 0), agent("a", 2, 0)], "python")).toMatchObject({ candidate: { agentId: "a" } });
  });

  it("says why nothing fits", () => {
    expect(pickAgent([], "python")).toEqual({ ok: false, reason: "no_agents" });
    expect(pickAgent([agent("a", 2, 0)], "node")).toEqual({ ok: false, reason: "language_unavailable" });
    expect(pickAgent([agent("a", 2, 2), agent("b", 1, 1)], "python")).toEqual({ ok: false, reason: "no_capacity" });
  });

  it("treats a capacity of zero (a draining agent) as full", () => {
    expect(pickAgent([agent("a", 0, 0)], "python")).toEqual({ ok: false, reason: "no_capacity" });
  });
});
