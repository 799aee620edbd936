import Docker from "dockerode";
import { ensureImage } from "../../scripts/lib/image.ts";

/** Before the integration suites: Docker must answer, and the sandbox image must exist. */
export default async function setup(): Promise<void> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `the integration tests need a Docker engine, and none answers (${(err as Error).message}). ` +
        "Start dockerd, or run .ci/run, which provisions one.",
    );
  }
  await ensureImage(docker, (line) => process.stderr.write(`test setup: ${line}\n`));
}
