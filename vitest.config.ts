import { defineConfig, type Plugin } from "vitest/config";

/** The Worker imports its prompts as text (wrangler's Text rule); unit tests get the same. */
const markdownAsText: Plugin = {
  name: "markdown-as-text",
  transform(code, id) {
    return id.endsWith(".md") ? { code: `export default ${JSON.stringify(code)};`, map: null } : undefined;
  },
};

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [markdownAsText],
        test: {
          name: "unit",
          include: ["{shared,worker,sandbox-agent,client}/src/**/*.test.ts", "bench/**/*.test.ts"],
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
          exclude: ["test/workerd/**"],
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
