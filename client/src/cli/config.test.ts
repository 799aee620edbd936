import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "./config.ts";

describe("resolveConfig", async () => {
  const dir = await mkdtemp(join(tmpdir(), "edgeswarm-config-"));
  const file = join(dir, "config.json");
  await writeFile(file, JSON.stringify({ url: "http://from-file:1", apiKey: "file-key" }));

  it("takes flags over the environment over the file", async () => {
    const env = { EDGESWARM_CONFIG: file, EDGESWARM_URL: "http://from-env:1" };
    expect(await resolveConfig({}, env)).toEqual({ url: "http://from-env:1", apiKey: "file-key" });
    expect(await resolveConfig({ apiKey: "flag-key" }, env)).toEqual({ url: "http://from-env:1", apiKey: "flag-key" });
    expect(await resolveConfig({}, { EDGESWARM_CONFIG: file })).toEqual({
      url: "http://from-file:1",
      apiKey: "file-key",
    });
  });

  it("reads ~/.config/edgeswarm/config.json when nothing else is set, and names what is missing", async () => {
    await expect(resolveConfig({}, { HOME: dir })).rejects.toThrow(/pass --url, set EDGESWARM_URL/);
    await expect(resolveConfig({ url: "http://x:1" }, { HOME: dir })).rejects.toThrow(/set EDGESWARM_API_KEY/);
  });

  it("says what is wrong with a broken config file", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, "{nope");
    await expect(resolveConfig({}, { EDGESWARM_CONFIG: bad })).rejects.toThrow(/not valid JSON/);
    await expect(resolveConfig({}, { EDGESWARM_CONFIG: join(dir, "missing.json") })).rejects.toThrow(/cannot read/);
  });
});
