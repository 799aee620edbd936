import { describe, expect, it } from "vitest";
import { RunRequest } from "./runs.ts";
import { Team, type TeamInput } from "./teams.ts";

const coder = { name: "coder", role: "coder" as const };
const reviewer = { name: "reviewer", role: "assistant" as const, instructions: "Reply APPROVE when it works." };

/** The paths of a refused team's issues. */
function refusedAt(team: unknown): string[] {
  const parsed = Team.safeParse(team);
  if (parsed.success) throw new Error("the team was accepted");
  return parsed.error.issues.map((i) => i.path.join("."));
}

describe("Team", () => {
  it("takes the issue's round-robin example", () => {
    const team: TeamInput = {
      kind: "round_robin",
      participants: [{ ...coder, model: { provider: "anthropic", model: "claude-sonnet-4-6" } }, reviewer],
      termination: { any: [{ textMention: "APPROVE", sources: ["reviewer"] }, { maxMessages: 30 }] },
    };
    expect(Team.parse(team).participants.map((p) => p.name)).toEqual(["coder", "reviewer"]);
  });

  it("takes a swarm with handoffs, and fills the selector's and orchestrator's defaults", () => {
    const swarm = {
      kind: "swarm",
      participants: [
        { ...coder, handoffs: ["tester"] },
        { name: "tester", role: "coder", handoffs: ["coder", "user"] },
      ],
    };
    expect(Team.safeParse(swarm).success).toBe(true);
    const selector = Team.parse({
      kind: "selector",
      participants: [coder, reviewer],
      selector: { model: { provider: "openai" } },
    });
    expect(selector.selector?.allowRepeatedSpeaker).toBe(true);
    const m1 = Team.parse({
      kind: "magentic_one",
      participants: [coder],
      orchestrator: { model: { provider: "openai" } },
    });
    expect(m1.orchestrator?.maxStalls).toBe(3);
  });

  it.each([
    ["an unknown kind", { kind: "mesh", participants: [coder] }, ["kind"]],
    [
      "a duplicate name",
      { kind: "round_robin", participants: [coder, { ...reviewer, name: "coder" }] },
      ["participants.1.name"],
    ],
    ["an invalid name", { kind: "round_robin", participants: [{ ...coder, name: "Coder!" }] }, ["participants.0.name"]],
    [
      "a handoff to nobody",
      { kind: "swarm", participants: [{ ...coder, handoffs: ["ghost"] }] },
      ["participants.0.handoffs.0"],
    ],
    ["a swarm with no handoffs", { kind: "swarm", participants: [coder, reviewer] }, ["participants"]],
    [
      "handoffs outside a swarm",
      { kind: "round_robin", participants: [{ ...coder, handoffs: ["user"] }] },
      ["participants.0.handoffs"],
    ],
    [
      "a tool the role has not",
      { kind: "round_robin", participants: [{ ...reviewer, tools: ["run_code"] }] },
      ["participants.0.tools.0"],
    ],
    ["a selector team without a selector", { kind: "selector", participants: [coder] }, ["selector"]],
    [
      "a mention from nobody",
      { kind: "round_robin", participants: [coder], termination: { textMention: "DONE", sources: ["boss"] } },
      ["termination.sources.0"],
    ],
    [
      "termination nested too deep",
      {
        kind: "round_robin",
        participants: [coder],
        termination: { any: [{ all: [{ any: [{ all: [{ any: [{ maxMessages: 3 }] }] }] }] }] },
      },
      ["termination"],
    ],
    ["an empty any", { kind: "round_robin", participants: [coder], termination: { any: [] } }, ["termination.any"]],
    [
      "nine participants",
      {
        kind: "round_robin",
        participants: Array.from({ length: 9 }, (_, i) => ({ name: `p${i}`, role: "assistant" })),
      },
      ["participants"],
    ],
  ])("refuses %s, naming the field", (_what, team, paths) => {
    expect(refusedAt(team)).toEqual(expect.arrayContaining(paths));
  });
});

describe("docs/teams.md", () => {
  it("its example request is one the API takes", async () => {
    const { readFile } = await import("node:fs/promises");
    const doc = await readFile(new URL("../../docs/teams.md", import.meta.url), "utf8");
    const example = /```json\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const parsed = RunRequest.parse(JSON.parse(example ?? ""));
    expect(parsed.team).toMatchObject({ kind: "round_robin", participants: [{ name: "coder" }, { name: "reviewer" }] });
  });
});
