import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunView } from "@edgeswarm/shared";
import { afterEach, describe, expect, it } from "vitest";
import { saveResult } from "./save-result.ts";

const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
let dir = "";
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function succeeded(files: NonNullable<RunView["result"]>["files"]): RunView {
  const usage = { inputTokens: 0, outputTokens: 0 };
  const bytes = (f: (typeof files)[number]) =>
    f.encoding === "base64" ? Buffer.from(f.content, "base64").length : Buffer.byteLength(f.content);
  return {
    id: "run_0123456789abcdef01234567",
    status: "succeeded",
    task: "t",
    plan: null,
    currentStep: null,
    iterations: 1,
    result: {
      summary: "s",
      code: "print(1)",
      stdout: "1\n",
      files,
      manifest: files.map((f) => ({ path: f.path, encoding: f.encoding, bytes: bytes(f) })),
      stoppedBy: null,
    },
    usage: { planner: usage, coder: usage, total: usage },
    error: null,
    metadata: null,
    createdAt: "",
    updatedAt: "",
    finishedAt: null,
    webhook: null,
    traceId: null,
    team: null,
    links: { self: "", events: "", messages: "", state: "" },
  };
}

describe("saveResult", () => {
  it("writes images as their bytes, and gives each file's size as the manifest says", async () => {
    dir = await mkdtemp(join(tmpdir(), "save-result-"));
    const run = succeeded([
      { path: "plots/fig.png", content: PNG.toString("base64"), encoding: "base64" },
      { path: "notes.txt", content: "héllo ✓", encoding: "utf8" },
    ]);
    const saved = await saveResult(dir, run, "python");
    expect(saved.files).toEqual(["run.json", "code.py", "stdout.txt", "files/plots/fig.png", "files/notes.txt"]);
    expect(await readFile(join(dir, "files/plots/fig.png"))).toEqual(PNG);
    expect(saved.sizes["files/plots/fig.png"]).toBe(PNG.length);
    expect(saved.sizes["files/notes.txt"]).toBe(Buffer.byteLength("héllo ✓"));
    for (const file of saved.files) expect(saved.sizes[file], file).toBe((await stat(join(dir, file))).size);
  });

  it("refuses a returned path that would land outside the directory", async () => {
    dir = await mkdtemp(join(tmpdir(), "save-result-"));
    const run = succeeded([{ path: "../escape.txt", content: "x", encoding: "utf8" }]);
    await expect(saveResult(dir, run, "python")).rejects.toThrow(/refusing/);
  });
});
