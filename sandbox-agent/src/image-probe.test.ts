import { SANDBOX_BOUNDS } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { normalisePackageName, parseProbeOutput, sandboxesOf } from "./image-probe.ts";

const report = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    python: { implementation: "cpython", version: "3.11.2" },
    distributions: [
      ["pandas", "1.5.3"],
      ["numpy", "1.24.2"],
      ["scikit_learn", "1.2.1"],
      ["Pillow", "9.4.0"],
    ],
    tools: { bash: "GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)", node: null },
    ...over,
  });

describe("parseProbeOutput", () => {
  it("reads versions and normalised, sorted package names", () => {
    expect(parseProbeOutput(report())).toEqual({
      versions: { python: "3.11.2", bash: "5.2.15" },
      packages: { numpy: "1.24.2", pandas: "1.5.3", pillow: "9.4.0", "scikit-learn": "1.2.1" },
    });
    expect(parseProbeOutput(report({ tools: { node: "v22.11.0" } }))?.versions.node).toBe("22.11.0");
  });

  it("keeps the first of a name, as import finds it, and drops malformed entries", () => {
    const facts = parseProbeOutput(
      report({
        distributions: [
          ["numpy", "1.24.2"],
          ["NumPy", "2.0.0"],
          ["bad name!", "1"],
          ["ok", "1.0 with spaces"],
          ["x".repeat(SANDBOX_BOUNDS.nameChars + 1), "1"],
          ["long", "1".repeat(SANDBOX_BOUNDS.versionChars + 1)],
          "not a pair",
          [7, "1"],
        ],
      }),
    );
    expect(facts?.packages).toEqual({ numpy: "1.24.2" });
  });

  it("lists at most the bound of packages", () => {
    const many = Array.from({ length: 1000 }, (_, i) => [`p${String(i).padStart(4, "0")}`, "1"]);
    const facts = parseProbeOutput(report({ distributions: many }));
    expect(Object.keys(facts?.packages ?? {})).toHaveLength(SANDBOX_BOUNDS.packages);
    expect(Object.keys(facts?.packages ?? {})[0]).toBe("p0000");
  });

  it("gives nothing for output that is not the probe's", () => {
    expect(parseProbeOutput("")).toBeUndefined();
    expect(parseProbeOutput("Traceback (most recent call last):")).toBeUndefined();
    expect(parseProbeOutput("[1, 2]")).toBeUndefined();
    expect(parseProbeOutput(report({ python: { implementation: "pypy", version: "3.10" } }))?.versions).toEqual({
      bash: "5.2.15",
    });
  });
});

describe("sandboxesOf", () => {
  it("describes each language from its image, packages under python only, and less when a probe failed", () => {
    const facts = parseProbeOutput(report());
    if (!facts) throw new Error("the report should parse");
    const sandboxes = sandboxesOf(
      { python: "img/data:1", bash: "img/data:1", node: "img/node:1" },
      new Map([["img/data:1", facts]]),
    );
    expect(sandboxes).toEqual([
      {
        language: "python",
        image: "img/data:1",
        interpreter: { name: "python", version: "3.11.2" },
        packages: facts.packages,
      },
      { language: "bash", image: "img/data:1", interpreter: { name: "bash", version: "5.2.15" }, packages: {} },
      { language: "node", image: "img/node:1", packages: {} },
    ]);
  });

  it("normalises names as PEP 503 compares them", () => {
    expect(normalisePackageName("Scikit__Learn.Extra")).toBe("scikit-learn-extra");
  });
});
