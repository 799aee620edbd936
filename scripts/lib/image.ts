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

const IMAGE_DIR = "sandbox-agent/images/python";

/** The image recipe's hash (recipe.sh), which both builds put in the label `edgeswarm.image.recipe`. */
async function recipe(): Promise<string> {
  const lines: string[] = [];
  if (!(await run("bash", [`${IMAGE_DIR}/recipe.sh`], (line) => lines.push(line)))) {
    throw new Error(`${IMAGE_DIR}/recipe.sh failed: ${lines.join(" ")}`);
  }
  return lines.join("").trim();
}

/**
 * Makes sure the sandbox image exists and is built from the current recipe
 * (an image of an older package list is rebuilt): from the Dockerfile where a
 * registry is reachable, else from Debian packages with build-offline.sh.
 */
export async function ensureImage(docker: Docker, say: (line: string) => void): Promise<void> {
  const want = await recipe();
  let have: string | undefined;
  try {
    have = (await docker.getImage(PYTHON_IMAGE).inspect()).Config.Labels?.["edgeswarm.image.recipe"] ?? "none";
  } catch {
    // missing: build it
  }
  if (have === want) return;
  say(
    have === undefined
      ? `building the sandbox image ${PYTHON_IMAGE} (once)...`
      : `rebuilding the sandbox image ${PYTHON_IMAGE}: its recipe changed (${have} -> ${want})...`,
  );
  const quiet: string[] = [];
  const keep = (line: string) => quiet.push(line);
  const build = ["build", "-q", "--build-arg", `RECIPE=${want}`, "-t", PYTHON_IMAGE, IMAGE_DIR];
  if (await run("docker", build, keep)) return;
  say("no container registry reachable; building it from Debian packages instead (a few minutes)...");
  if (await run("bash", [`${IMAGE_DIR}/build-offline.sh`, PYTHON_IMAGE], say)) return;
  throw new Error(`could not build ${PYTHON_IMAGE}; see the lines above (build-offline.sh needs root and debootstrap)`);
}
