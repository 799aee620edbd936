import { spawn } from "node:child_process";
import { once } from "node:events";
import type Docker from "dockerode";
import { ROOT } from "./paths.ts";

export const PYTHON_IMAGE = "edgeswarm/python:latest";

async function run(command: string, args: string[], log: (line: string) => void): Promise<boolean> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.setEncoding("utf8").on("data", (d: string) => log(d.trimEnd()));
  child.stderr.setEncoding("utf8").on("data", (d: string) => log(d.trimEnd()));
  const [code] = await once(child, "exit");
  return code === 0;
}

/**
 * Makes sure the sandbox image exists: from the Dockerfile where a registry is
 * reachable, else from Debian packages with build-offline.sh.
 */
export async function ensureImage(docker: Docker, say: (line: string) => void): Promise<void> {
  try {
    await docker.getImage(PYTHON_IMAGE).inspect();
    return;
  } catch {
    // missing: build it
  }
  say(`building the sandbox image ${PYTHON_IMAGE} (once)...`);
  const quiet: string[] = [];
  const keep = (line: string) => quiet.push(line);
  if (await run("docker", ["build", "-q", "-t", PYTHON_IMAGE, "sandbox-agent/images/python"], keep)) return;
  say("no container registry reachable; building it from Debian packages instead (about a minute)...");
  if (await run("bash", ["sandbox-agent/images/python/build-offline.sh", PYTHON_IMAGE], say)) return;
  throw new Error(`could not build ${PYTHON_IMAGE}; see the lines above (build-offline.sh needs root and debootstrap)`);
}
