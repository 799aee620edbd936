import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Docker from "dockerode";
import { ensureImage } from "./lib/image.ts";
import { type LocalConfig, LocalConfigError, localConfig } from "./lib/local-config.ts";
import { AGENT_BIN, ROOT } from "./lib/paths.ts";
import { Proc } from "./lib/process.ts";
import { waitForLine } from "./lib/wait.ts";
import { envFileText, startWrangler } from "./lib/wrangler.ts";

// The local stack: the Worker in workerd (wrangler dev, state in .edgeswarm/),
// EDGESWARM_AGENTS sandbox agents, the sandbox image, and one smoke execution.

const say = (line: string) => process.stdout.write(`edgeswarm: ${line}\n`);
const fail = (line: string): never => {
  process.stderr.write(`edgeswarm: ${line}\n`);
  process.exit(1);
};

const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`PORT must be a port number, not '${process.env.PORT}'`);
const agentCount = Number(process.env.EDGESWARM_AGENTS ?? 1);
if (!Number.isInteger(agentCount) || agentCount < 1 || agentCount > 16) fail("EDGESWARM_AGENTS must be 1 to 16");
function readLocalConfig(): LocalConfig {
  try {
    return localConfig(process.env);
  } catch (err) {
    if (err instanceof LocalConfigError) return fail(err.message);
    throw err;
  }
}
const local = readLocalConfig();
const url = `http://127.0.0.1:${port}`;

const docker = new Docker();
try {
  await docker.ping();
} catch (err) {
  fail(
    `cannot reach the Docker engine (${(err as Error).message}).\n` +
      "  Start Docker (for example `sudo dockerd &` or `sudo systemctl start docker`) and make sure this user may use its socket.",
  );
}
try {
  await ensureImage(docker, say);
} catch (err) {
  fail((err as Error).message);
}

const home = process.env.EDGESWARM_HOME || join(ROOT, ".edgeswarm");
await mkdir(home, { recursive: true });
const envFile = join(home, "worker.env");
await writeFile(envFile, envFileText(local.vars));
await chmod(envFile, 0o600);

const children: Proc[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say("stopping...");
    await Promise.all(children.map((c) => c.stop("SIGTERM")));
  }
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

say(`starting the Worker on ${url} (wrangler dev, state in ${home}/state)...`);
try {
  children.push(await startWrangler({ port, envFile, persistTo: join(home, "state"), logDir: join(home, "logs") }));
} catch (err) {
  say((err as Error).message);
  await stopAll(1);
}

for (let i = 1; i <= agentCount; i++) {
  // Ids stable per port: a restarted stack reaps its own leftovers, never another stack's.
  const id = `local-${port}-${i}`;
  // The token goes in the environment: a flag would show in `ps` to every user of the machine.
  const agent = new Proc(
    process.execPath,
    [AGENT_BIN, "--url", url, "--id", id, "--capacity", "4"],
    { ...process.env, EDGESWARM_AGENT_TOKEN: local.agentToken },
    ROOT,
  );
  children.push(agent);
  agent.log.onLine((line) => process.stdout.write(`  [agent ${id}] ${line}\n`));
  await waitForLine(agent.log, /connected to pool/, 30_000, `agent ${id} to connect`).catch(async (err) => {
    say((err as Error).message);
    await stopAll(1);
  });
}

const smoke = await fetch(`${url}/v1/executions`, {
  method: "POST",
  headers: { Authorization: `Bearer ${local.apiKey}`, "Content-Type": "application/json" },
  body: JSON.stringify({
    language: "python",
    code: "import sys\nprint(f'hello from a sandbox, Python {sys.version.split()[0]}')",
  }),
});
const result = (await smoke.json()) as { status?: string; stdout?: string; durationMs?: number };
if (result.status !== "succeeded") {
  say(`the smoke execution did not succeed: ${JSON.stringify(result)}`);
  await stopAll(1);
}
say(`smoke execution ${result.status}: ${result.stdout?.trim()} (${Math.round(result.durationMs ?? 0)} ms)`);

process.stdout.write(`
  edgeswarm is running.

    URL       ${url}
    API key   ${local.apiKey}${local.keyNote}
    agents    ${agentCount} (pool '${local.pool}')
    dashboard ${url}/   (paste the API key)
    config    ${local.sources.join("\n              ")}

  Try it:

    curl -s ${url}/v1/executions \\
      -H 'Authorization: Bearer ${local.apiKey}' \\
      -d '{"language": "python", "code": "print(6 * 7)"}'

  Ctrl-C stops everything.
`);
