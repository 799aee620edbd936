import type { AgentSandbox, Language } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { compareVersions, type ProfileAgent, sandboxProfile } from "./sandbox-profile.ts";

const python = (version: string, packages: Record<string, string>): AgentSandbox => ({
  language: "python",
  image: "edgeswarm/python:latest",
  interpreter: { name: "python", version },
  packages,
});
const agent = (sandboxes: AgentSandbox[] | undefined, languages: Language[] = ["python", "bash"]): ProfileAgent => ({
  languages,
  sandboxes,
});

describe("compareVersions", () => {
  it("orders dotted numbers as numbers and a shorter prefix first", () => {
    expect(compareVersions("1.10.1", "1.9.3")).toBeGreaterThan(0);
    expect(compareVersions("1.24.2", "1.24.2")).toBe(0);
    expect(compareVersions("3.11", "3.11.2")).toBeLessThan(0);
    expect(compareVersions("1.5.3", "1.5.3rc1")).not.toBe(0);
  });
});

describe("sandboxProfile", () => {
  it("keeps only the packages every agent serving the language has, at the lowest version", () => {
    const profile = sandboxProfile([
      agent([python("3.11.2", { numpy: "1.24.2", pandas: "1.5.3", scipy: "1.10.1" })]),
      agent([python("3.11.9", { numpy: "1.26.4", pandas: "1.5.3" })]),
    ]);
    expect(profile.languages.find((l) => l.language === "python")).toEqual({
      language: "python",
      agents: 2,
      interpreter: { name: "python", version: "3.11.2" },
      packages: { numpy: "1.24.2", pandas: "1.5.3" },
    });
  });

  it("promises nothing for a language one of its agents does not describe", () => {
    const profile = sandboxProfile([agent([python("3.11.2", { pandas: "1.5.3" })]), agent(undefined)]);
    expect(profile.languages.find((l) => l.language === "python")).toEqual({
      language: "python",
      agents: 2,
      packages: {},
    });
  });

  it("counts only the agents that serve a language, and lists languages in order", () => {
    const profile = sandboxProfile([
      agent([python("3.11.2", { pandas: "1.5.3" })], ["python"]),
      agent(
        [{ language: "bash", image: "sh", interpreter: { name: "bash", version: "5.2.15" }, packages: {} }],
        ["bash"],
      ),
    ]);
    expect(profile.languages.map((l) => [l.language, l.agents, l.interpreter?.version])).toEqual([
      ["bash", 1, "5.2.15"],
      ["python", 1, "3.11.2"],
    ]);
    expect(profile.languages[1]?.packages).toEqual({ pandas: "1.5.3" });
  });

  it("is empty with no agents", () => {
    expect(sandboxProfile([])).toEqual({ languages: [] });
  });
});
