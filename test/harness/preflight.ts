import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * What the suites need beyond the README's prerequisites (Node 22 and
 * Docker), how to tell whether this machine has it, and which suites need it.
 * `.ci/run` installs each; `npm test` outside CI skips the suites whose piece
 * is missing and says so, and under CI=true a missing piece fails the run.
 */
export interface Prerequisite {
  name: string;
  /** What it is for, in a few words. */
  why: string;
  /** The command that installs it on Debian. */
  install: string;
  /** The suites (globs, from the repository root) that cannot run without it. */
  suites: string[];
  present(): Promise<boolean>;
}

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function onPath(name: string): Promise<boolean> {
  return run("sh", ["-c", `command -v ${name}`]).then(
    () => true,
    () => false,
  );
}

export const PREREQUISITES: readonly Prerequisite[] = [
  {
    name: "runsc (gVisor) registered with Docker",
    why: "the abuse suite and the runtime tests run every attack under runc and runsc",
    install:
      "apt-get install -y runsc, then add it to /etc/docker/daemon.json's runtimes with " +
      'runtimeArgs ["--network=none"] and send dockerd SIGHUP (.ci/run does both)',
    suites: ["test/abuse/**", "test/runtime/warm-pool.test.ts"],
    async present() {
      const info = await run("docker", ["info", "--format", "{{json .Runtimes}}"]).catch(() => null);
      return info?.stdout.includes('"runsc"') === true;
    },
  },
  {
    name: "Chromium",
    why: "the dashboard's tests drive a real browser",
    install: "apt-get install -y chromium (or set EDGESWARM_CHROMIUM to a Chromium binary)",
    suites: ["test/browser/**"],
    present: () => executable(process.env.EDGESWARM_CHROMIUM ?? "/usr/bin/chromium"),
  },
  {
    name: "Prometheus",
    why: "the agent-metrics suite has a real Prometheus scrape the agents; promtool checks the docs' scrape config",
    install: "apt-get install -y prometheus",
    suites: ["test/e2e/agent-metrics.test.ts", "test/e2e/docs-examples.test.ts"],
    present: () => onPath("prometheus"),
  },
  {
    name: "Debian's python3 with setuptools and wheel",
    why: "the Python SDK's tests run it with the standard library only, and build its wheel",
    install: "apt-get install -y python3 python3-setuptools python3-wheel",
    suites: ["test/python/**"],
    present: () =>
      run("/usr/bin/python3", ["-c", "import setuptools, wheel"]).then(
        () => true,
        () => false,
      ),
  },
];

/** The prerequisites this machine lacks. */
export async function missingPrerequisites(all: readonly Prerequisite[] = PREREQUISITES): Promise<Prerequisite[]> {
  const present = await Promise.all(all.map((p) => p.present()));
  return all.filter((_, i) => !present[i]);
}

/** One line per missing piece: what, which suites, and the command that installs it. */
export function describeMissing(missing: readonly Prerequisite[]): string {
  return missing
    .map((p) => `- ${p.name} (${p.why}): needed by ${p.suites.join(", ")}\n    install: ${p.install}`)
    .join("\n");
}
