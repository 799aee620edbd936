import { fileURLToPath } from "node:url";

/** The repository root, whatever the current directory. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const WRANGLER = fileURLToPath(new URL("../../node_modules/wrangler/bin/wrangler.js", import.meta.url));
export const AGENT_BIN = fileURLToPath(new URL("../../sandbox-agent/bin/edgeswarm-agent.js", import.meta.url));
