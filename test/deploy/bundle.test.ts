import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, WRANGLER } from "../../scripts/lib/paths.ts";
import { runCommand } from "./command.ts";

/**
 * The production bundle, as `wrangler deploy` would upload it, against the
 * Workers size limit. Cloudflare's limit (checked 2026-12): 64 MiB
 * uncompressed on every plan, since 2026-09-04 (changelog "increased Worker
 * size limit"; wrangler's bundle reporter since workers-sdk#14001). Before
 * that it was 10 MiB after gzip on the paid plan; the bundle is held to that
 * too, so an account or tool still on the old rule takes it. Headroom: half
 * of each, so a growing dependency is noticed long before a deploy fails.
 */
const MIB = 1024 * 1024;
const LIMITS = {
  uncompressed: { limit: 64 * MIB, budget: 32 * MIB },
  gzip: { limit: 10 * MIB, budget: 5 * MIB },
} as const;

const KIB = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("the Worker's production bundle", () => {
  it("builds with wrangler deploy --dry-run, within the Workers size limit with headroom", async () => {
    const outdir = await mkdtemp(join(tmpdir(), "edgeswarm-bundle-"));
    dirs.push(outdir);
    const built = await runCommand(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outdir], {
      timeoutMs: 120_000,
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
    expect(built.code, built.text).toBe(0);
    const reported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(built.text);
    expect(reported, built.text).not.toBeNull();

    // The upload is every module in the outdir: the entry, and the Text modules (prompts, the dashboard's files).
    // Not its source map (uploaded only with upload_source_maps) nor the README wrangler writes there.
    const names = (await readdir(outdir)).filter((name) => !name.endsWith(".map") && name !== "README.md");
    expect(names).toContain("index.js");
    const files = await Promise.all(names.map((name) => readFile(join(outdir, name))));
    const uncompressed = files.reduce((sum, f) => sum + f.length, 0);
    const gzip = gzipSync(Buffer.concat(files)).length;
    console.log(
      `Worker bundle: ${names.length} modules, ${KIB(uncompressed)} (budget ${KIB(LIMITS.uncompressed.budget)}, ` +
        `limit ${KIB(LIMITS.uncompressed.limit)}), gzip ${KIB(gzip)} (budget ${KIB(LIMITS.gzip.budget)}, ` +
        `former paid-plan limit ${KIB(LIMITS.gzip.limit)}); wrangler reports ${reported?.[0]}`,
    );
    // What was measured is what wrangler would upload.
    expect(Math.abs(uncompressed / 1024 - Number(reported?.[1])) / Number(reported?.[1])).toBeLessThan(0.02);
    expect(uncompressed).toBeLessThan(LIMITS.uncompressed.budget);
    expect(gzip).toBeLessThan(LIMITS.gzip.budget);
  });
});
