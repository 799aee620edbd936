import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBody } from "./run.ts";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "run-body-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const TEAM = {
  kind: "swarm",
  participants: [{ name: "coder", role: "coder", handoffs: ["user"] }],
  termination: { textMention: "DONE" },
};

describe("run --team and --from-state", () => {
  it("puts the team file's team in the body", async () => {
    const body = await runBody("Read the data.", { team: await file("team.json", TEAM) });
    expect(body).toEqual({ task: "Read the data.", team: TEAM });
  });

  it("refuses a team file that is not a team, naming the field and what is wrong", async () => {
    const bad = { ...TEAM, participants: [{ name: "coder", role: "coder", handoffs: ["tester"] }] };
    const path = await file("bad.json", bad);
    await expect(runBody("x", { team: path })).rejects.toThrow(
      `--team ${path}: participants.0.handoffs.0: no participant 'tester'`,
    );
    const notJson = await file("not.json", "{kind: swarm}");
    await expect(runBody("x", { team: notJson })).rejects.toThrow(`--team ${notJson} is not JSON: `);
    await expect(runBody("x", { team: join(dir, "missing.json") })).rejects.toThrow(/ENOENT/);
  });

  it("takes a state as `runs state` prints it, and no planner or coder beside a team", async () => {
    const state = {
      version: 1,
      team: TEAM,
      tasks: ["Read the data."],
      messages: [{ speaker: "coder", text: "Which file?", toolCalls: [], handoff: "user" }],
      omitted: 0,
      manager: { kind: "swarm", next: "coder", awaitingInput: true },
      participants: { coder: { role: "coder", said: [0] } },
    };
    const path = await file("state.json", state);
    expect(await runBody("Go on.", { "from-state": path })).toEqual({ task: "Go on.", fromState: state });
    await expect(runBody("x", { "from-state": path, coder: "openai" })).rejects.toThrow(
      "--from-state names each participant's model in the team; --coder is for the default team",
    );
    await expect(runBody("x", { "from-state": await file("v2.json", { ...state, version: 2 }) })).rejects.toThrow(
      /version: /,
    );
  });
});
