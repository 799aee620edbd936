import { DEFAULT_LIMITS as SANDBOX } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import type { ExitInfo } from "./frames.ts";
import { outcomeFromExit, ReturnedFiles } from "./outcome.ts";

const chunk = (path: string, data: string | Buffer, more = false) => ({
  path,
  data: typeof data === "string" ? Buffer.from(data) : data,
  more,
});

const EXIT: ExitInfo = {
  exitCode: 0,
  signal: null,
  timedOut: false,
  oomKilled: false,
  outputLimited: false,
  stdoutTruncated: false,
  stderrTruncated: false,
  filesTruncated: false,
  durationMs: 12.4,
};
const NOT_TRUNCATED = { stdout: false, stderr: false };

describe("ReturnedFiles", () => {
  it("joins a file sent in pieces and picks utf8 or base64", () => {
    const files = new ReturnedFiles(SANDBOX);
    files.add(chunk("a.txt", "hel", true));
    files.add(chunk("a.txt", "lo ✓"));
    files.add(chunk("b.bin", Buffer.from([0xff, 0])));
    expect(files.list()).toEqual([
      { path: "a.txt", content: "hello ✓", encoding: "utf8" },
      { path: "b.bin", content: "/wA=", encoding: "base64" },
    ]);
    expect(files.truncated).toBe(false);
  });

  it("drops a file cut short, a file with an unusable path, and one over the size cap", () => {
    const files = new ReturnedFiles(SANDBOX);
    files.add(chunk("cut", "x", true));
    files.add(chunk("../escape", "x"));
    files.add(chunk("big", Buffer.alloc(SANDBOX.returnedFileBytes), true));
    files.add(chunk("big", "1"));
    files.add(chunk("ok", "fine"));
    files.add(chunk("open", "x", true));
    expect(files.list()).toEqual([{ path: "ok", content: "fine", encoding: "utf8" }]);
    expect(files.truncated).toBe(true);
  });

  it("keeps at most the file-count cap", () => {
    const files = new ReturnedFiles(SANDBOX);
    for (let i = 0; i <= SANDBOX.returnedFiles; i++) files.add(chunk(`f${i}`, "x"));
    expect(files.list()).toHaveLength(SANDBOX.returnedFiles);
    expect(files.truncated).toBe(true);
  });
});

describe("outcomeFromExit", () => {
  it("maps exit codes to succeeded and failed", () => {
    expect(outcomeFromExit(EXIT, false, NOT_TRUNCATED, new ReturnedFiles(SANDBOX))).toEqual({
      status: "succeeded",
      exitCode: 0,
      signal: null,
      durationMs: 12,
      truncated: NOT_TRUNCATED,
      files: [],
    });
    expect(outcomeFromExit({ ...EXIT, exitCode: 2 }, false, NOT_TRUNCATED, new ReturnedFiles(SANDBOX)).status).toBe(
      "failed",
    );
  });

  it("ranks oom over timeout over output limit", () => {
    const all = { ...EXIT, exitCode: null, signal: "SIGKILL", timedOut: true, outputLimited: true };
    expect(outcomeFromExit(all, true, NOT_TRUNCATED, new ReturnedFiles(SANDBOX)).status).toBe("oom_killed");
    expect(outcomeFromExit(all, false, NOT_TRUNCATED, new ReturnedFiles(SANDBOX)).status).toBe("timed_out");
    expect(outcomeFromExit({ ...all, timedOut: false }, false, NOT_TRUNCATED, new ReturnedFiles(SANDBOX)).status).toBe(
      "output_limited",
    );
  });

  it("treats the agent's own output cap as output_limited even if the runner denies it", () => {
    const o = outcomeFromExit(EXIT, false, { stdout: true, stderr: false }, new ReturnedFiles(SANDBOX));
    expect(o.status).toBe("output_limited");
    expect(o.truncated).toEqual({ stdout: true, stderr: false });
  });

  it("explains skipped files", () => {
    const o = outcomeFromExit({ ...EXIT, filesTruncated: true }, false, NOT_TRUNCATED, new ReturnedFiles(SANDBOX));
    expect(o.status).toBe("succeeded");
    expect(o.error?.message).toMatch(/some workspace files were not returned/);
  });
});
