import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The SDK must run in Workers and browsers too: Web APIs only.
describe("the SDK's portability", () => {
  it("imports nothing from node: and uses no Node global", async () => {
    const dir = dirname(fileURLToPath(import.meta.url));
    const files = (await readdir(dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(files.length).toBeGreaterThan(5);
    for (const file of [...files.map((f) => join(dir, f)), join(dir, "..", "index.ts")]) {
      // Comments may mention Node; code may not.
      const code = (await readFile(file, "utf8")).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      expect(code, file).not.toMatch(/from "node:|require\(|\bprocess\.|\bBuffer\b|__dirname/);
    }
  });
});
