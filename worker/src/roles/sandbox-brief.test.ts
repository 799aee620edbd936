import { describe, expect, it } from "vitest";
import type { SandboxProfile } from "../pool/sandbox-profile.ts";
import { sandboxBrief } from "./sandbox-brief.ts";

const data: SandboxProfile = {
  languages: [
    { language: "bash", agents: 1, interpreter: { name: "bash", version: "5.2.15" }, packages: {} },
    {
      language: "python",
      agents: 1,
      interpreter: { name: "python", version: "3.11.2" },
      packages: { cycler: "0.11.0", matplotlib: "3.6.3", numpy: "1.24.2", pandas: "1.5.3", scipy: "1.10.1" },
    },
  ],
};

describe("sandboxBrief", () => {
  it("names the interpreter and the data packages with their versions, then the rest by name", () => {
    const brief = sandboxBrief(data);
    expect(brief).toContain(
      "- Python 3.11.2 with numpy 1.24.2, pandas 1.5.3, matplotlib 3.6.3, scipy 1.10.1; also cycler.",
    );
    expect(brief).toContain("- bash 5.2.15.");
    expect(brief).toMatch(/Agg backend.*save figures to files \(PNG\)/);
    expect(brief).toMatch(/No network/);
  });

  it("says nothing of pandas or plots when the pool's images lack them", () => {
    const bare: SandboxProfile = {
      languages: [{ language: "python", agents: 2, interpreter: { name: "python", version: "3.11.2" }, packages: {} }],
    };
    const brief = sandboxBrief(bare);
    expect(brief).toContain("- Python 3.11.2 with its standard library only");
    expect(brief).not.toMatch(/pandas|matplotlib|Agg/);
  });

  it("stays a few lines however many packages there are", () => {
    const packages = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`pkg-${i}`, "1.0"]));
    const brief = sandboxBrief({ languages: [{ language: "python", agents: 1, packages }] });
    expect(brief).toContain("and 232 more");
    expect(brief.length).toBeLessThan(1_000);
    expect(brief.split("\n").length).toBeLessThanOrEqual(4);
  });

  it("says when no agent is connected", () => {
    expect(sandboxBrief({ languages: [] })).toMatch(/No sandbox agent/);
  });
});
