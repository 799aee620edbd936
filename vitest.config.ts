import { defineConfig, type Plugin } from "vitest/config";
import { describeMissing, missingPrerequisites } from "./test/harness/preflight.ts";

// What the suites need beyond Node and Docker (test/harness/preflight.ts). Under CI nothing may
// be skipped; elsewhere the suites that need a missing piece are left out, and the run says so.
const missing = await missingPrerequisites();
if (missing.length > 0 && process.env.CI === "true") {
  throw new Error(`CI=true, and this machine lacks what the test suites need:\n${describeMissing(missing)}`);
}
const skipped = missing.flatMap((p) => p.suites);

/** Says, after the run, which suites were left out and what installs what they need. */
const skippedSummary = {
  onTestRunEnd(): void {
    if (missing.length === 0) return;
    process.stdout.write(
      `\nLeft out the suites that need what this machine lacks:\n${describeMissing(missing)}\n` +
        "Install them (or run .ci/run, which does), then npm test again.\n",
    );
  },
};

/** The Worker imports its prompts as text (wrangler's Text rule); unit tests get the same. */
const markdownAsText: Plugin = {
  name: "markdown-as-text",
  transform(code, id) {
    return id.endsWith(".md") ? { code: `export default ${JSON.stringify(code)};`, map: null } : undefined;
  },
};

export default defineConfig({
  test: {
    reporters: ["default", skippedSummary],
    projects: [
      {
        plugins: [markdownAsText],
        test: {
          name: "unit",
          include: [
            "{shared,worker,sandbox-agent,client}/src/**/*.test.ts",
            "bench/**/*.test.ts",
            "test/unit/**/*.test.ts",
          ],
        },
      },
      {
        // The Durable Objects and the app in workerd, with simulated agents: no Docker.
        test: {
          name: "workerd",
          include: ["test/workerd/**/*.test.ts"],
          // After the unit tests and before the Docker suites, never beside them: several time things.
          sequence: { groupOrder: 1 },
          setupFiles: ["test/harness/failure-logs.ts"],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          exclude: ["test/workerd/**", "test/unit/**", ...skipped],
          sequence: { groupOrder: 2 },
          globalSetup: ["test/harness/global-setup.ts"],
          setupFiles: ["test/harness/failure-logs.ts"],
          // The suites share one Docker engine and two cores: one file at a time.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
