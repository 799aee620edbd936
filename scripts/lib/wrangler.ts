import { ROOT, WRANGLER } from "./paths.ts";
import { freePort } from "./ports.ts";
import { Proc } from "./process.ts";
import { waitForLine } from "./wait.ts";

export interface WranglerOptions {
  port: number;
  envFile: string;
  persistTo: string;
  logDir: string;
  ip?: string;
  /** Another Worker's wrangler.toml (the default is the project's own). */
  config?: string;
}

/**
 * Runs the Worker in workerd through `wrangler dev` and resolves once it serves
 * /healthz. Kept on loopback: no Request.cf download, no metrics.
 */
export async function startWrangler(options: WranglerOptions): Promise<Proc> {
  const proc = new Proc(
    process.execPath,
    [
      WRANGLER,
      "dev",
      ...(options.config ? ["--config", options.config] : []),
      "--ip",
      options.ip ?? "127.0.0.1",
      "--port",
      String(options.port),
      "--inspector-port",
      String(await freePort()),
      "--env-file",
      options.envFile,
      "--persist-to",
      options.persistTo,
      "--show-interactive-dev-session=false",
    ],
    {
      ...process.env,
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_LOG_PATH: options.logDir,
      NO_COLOR: "1",
    },
    ROOT,
  );
  try {
    await Promise.race([
      waitForLine(proc.log, /Ready on http/, 90_000, "wrangler dev to be ready"),
      proc.exited.then((code) => {
        throw new Error(`wrangler dev exited with ${code} before it was ready:\n${proc.log.all.slice(-20).join("\n")}`);
      }),
    ]);
    // "Ready" can precede the first request being served; one request proves it.
    const res = await fetch(`http://127.0.0.1:${options.port}/healthz`);
    if (!res.ok) throw new Error(`the Worker answered /healthz with ${res.status}`);
    return proc;
  } catch (err) {
    await proc.stop("SIGKILL"); // leave nothing behind holding the port or the state
    throw err;
  }
}

/** Writes KEY=VALUE lines for wrangler's --env-file. */
export function envFileText(vars: Record<string, string | undefined>): string {
  return Object.entries(vars)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
}
