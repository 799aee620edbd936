import { describe, expect, it } from "vitest";
import { ExecutionRequest, WorkspacePath } from "./api.ts";
import { LIMITS, resolveLimits } from "./limits.ts";

describe("WorkspacePath", () => {
  it.each(["main.py", "a/b/c.txt", "dir.with.dots/x", "ünï/ok"])("accepts %s", (p) => {
    expect(WorkspacePath.safeParse(p).success).toBe(true);
  });
  it.each(["", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "a\\b", "a\u0000b", "x".repeat(256)])(
    "refuses %j",
    (p) => {
      expect(WorkspacePath.safeParse(p).success).toBe(false);
    },
  );
});

describe("ExecutionRequest", () => {
  it("fills defaults", () => {
    expect(ExecutionRequest.parse({ language: "python", code: "" })).toEqual({
      language: "python",
      code: "",
      files: [],
      args: [],
      env: {},
      limits: {},
      network: "none",
    });
  });

  it("refuses unknown fields, duplicate paths, bad env names and limits out of range", () => {
    const bad = [
      { language: "python", code: "", extra: 1 },
      {
        language: "python",
        code: "",
        files: [
          { path: "a", content: "" },
          { path: "a", content: "" },
        ],
      },
      { language: "python", code: "", env: { "BAD-NAME": "x" } },
      { language: "python", code: "", limits: { timeoutMs: LIMITS.timeoutMs.max + 1 } },
      { language: "python", code: "", limits: { cpus: 0 } },
      { language: "python", code: "", network: "host" },
    ];
    for (const body of bad) expect(ExecutionRequest.safeParse(body).success, JSON.stringify(body)).toBe(false);
  });

  it("resolves limits with defaults", () => {
    expect(resolveLimits({ memoryMb: 64 })).toEqual({
      timeoutMs: LIMITS.timeoutMs.default,
      memoryMb: 64,
      cpus: LIMITS.cpus.default,
      pids: LIMITS.pids.default,
      outputBytes: LIMITS.outputBytes.default,
    });
  });
});
