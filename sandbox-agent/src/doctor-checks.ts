import type { AgentSandbox, Language } from "@edgeswarm/shared";

/**
 * The pure half of `edgeswarm-agent doctor`: each check's verdict from what
 * was found, and how it is printed. doctor.ts gathers the facts (Docker, the
 * images, the Worker) and calls these; they are unit-tested without any of it.
 */

/** `skip`: not checked, because a check it needs failed (that one says why). */
export type CheckStatus = "ok" | "fail" | "skip";

/** One check's verdict: one printed line. */
export interface CheckResult {
  /** A short name: node, docker, runtime, image, worker, token. */
  check: string;
  status: CheckStatus;
  /** What was found, in a sentence. */
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

/** The oldest Node the agent runs on (package.json `engines`: type stripping, `node:` APIs). */
export const MIN_NODE = { major: 22, minor: 12 } as const;

/** How the images and the Worker are built and given, for the hints. */
export const HINTS = {
  image:
    "build it (npm run image:offline, or docker build -t edgeswarm/python:latest sandbox-agent/images/python), " +
    "or name an image this host has with --image L=IMAGE",
  token:
    "set EDGESWARM_AGENT_TOKEN to one of the Worker's agent tokens (its EDGESWARM_AGENT_TOKENS secret: " +
    "wrangler secret put EDGESWARM_AGENT_TOKENS)",
} as const;

/** One check's line: `ok    image    ...`, a failure's hint after `; fix: `. */
export function formatResult(result: CheckResult): string {
  const line = `${result.status.padEnd(6)}${result.check.padEnd(9)}${result.detail}`;
  return result.status === "fail" && result.fix ? `${line}; fix: ${result.fix}` : line;
}

/** The closing line: how many checks passed or failed. */
export function summarise(results: readonly CheckResult[]): string {
  const failed = results.filter((r) => r.status === "fail").length;
  const skipped = results.filter((r) => r.status === "skip").length;
  if (failed === 0 && skipped === 0) return `all ${results.length} checks passed`;
  return `${failed} of ${results.length} checks failed${skipped ? `, ${skipped} not run because of them` : ""}`;
}

/** Node is new enough for the agent. */
export function nodeCheck(version: string = process.versions.node): CheckResult {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const ok = major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor);
  const want = `${MIN_NODE.major}.${MIN_NODE.minor}`;
  return ok
    ? { check: "node", status: "ok", detail: `Node ${version} (${want} or newer)` }
    : {
        check: "node",
        status: "fail",
        detail: `Node ${version} is older than ${want}`,
        fix: "install Node 22 (npm i --prefix ~/.cache/edgeswarm/node22 node@22, then put ~/.cache/edgeswarm/node22/node_modules/node/bin first on PATH, or your distribution's nodejs 22)",
      };
}

/** What `docker info` says of runtimes (dockerode's `info()`). */
export interface DockerRuntimes {
  Runtimes?: Record<string, unknown>;
  DefaultRuntime?: string;
}

/** The agent's `--runtime` (or Docker's default) is registered with the engine. */
export function runtimeCheck(wanted: string | undefined, info: DockerRuntimes): CheckResult {
  const known = Object.keys(info.Runtimes ?? {});
  const name = wanted ?? info.DefaultRuntime ?? "runc";
  const how = wanted ? "--runtime" : "Docker's default";
  if (known.includes(name)) return { check: "runtime", status: "ok", detail: `${name} (${how}) is registered` };
  return {
    check: "runtime",
    status: "fail",
    detail: `${name} (${how}) is not registered with Docker (it has: ${known.join(", ") || "none"})`,
    fix:
      name === "runsc"
        ? 'install gVisor (apt-get install runsc), add it to /etc/docker/daemon.json as "runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]}}, and reload dockerd (SIGHUP); or drop --runtime'
        : `register ${name} in /etc/docker/daemon.json "runtimes" and reload dockerd, or drop --runtime`,
  };
}

/** The most of an image's Python packages its line names (the count is always said). */
const LISTED_PACKAGES = 40;

/** What doctor.ts learnt of one image. */
export type ImageFinding =
  | { kind: "missing" }
  | { kind: "unprobed"; why: string }
  | { kind: "probe_failed"; problem: string }
  | { kind: "probed"; sandboxes: AgentSandbox[] };

/** One image: present, and holding an interpreter for each language the agent maps to it. */
export function imageCheck(image: string, languages: readonly Language[], finding: ImageFinding): CheckResult {
  const serves = `${image} (${languages.join(", ")})`;
  switch (finding.kind) {
    case "missing":
      return { check: "image", status: "fail", detail: `${serves} is not on this host`, fix: HINTS.image };
    case "unprobed":
      return { check: "image", status: "skip", detail: `${serves} is on this host; not probed: ${finding.why}` };
    case "probe_failed":
      return {
        check: "image",
        status: "fail",
        detail: `${serves} could not be probed: ${finding.problem}`,
        fix: `see what it holds by hand (docker run --rm ${image} python3 -V); the probe needs python3 in the image`,
      };
    case "probed": {
      const found = finding.sandboxes.filter((s) => s.interpreter);
      const lacking = languages.filter((l) => !found.some((s) => s.language === l));
      const interpreters = found.map((s) => `${s.language} ${s.interpreter?.version}`).join(", ");
      const packages = Object.entries(finding.sandboxes.find((s) => s.language === "python")?.packages ?? {});
      const some = packages.slice(0, LISTED_PACKAGES).map(([name, version]) => `${name} ${version}`);
      const listed =
        packages.length > 0
          ? `; ${packages.length} Python packages (${some.join(", ")}${packages.length > some.length ? ", ..." : ""})`
          : "";
      if (lacking.length > 0) {
        return {
          check: "image",
          status: "fail",
          detail: `${serves} has no ${lacking.join(" or ")} interpreter (found: ${interpreters || "none"})`,
          fix: `install ${lacking.join(" and ")} in the image, or map ${lacking.join(", ")} to another image with --image`,
        };
      }
      return { check: "image", status: "ok", detail: `${serves}: ${interpreters}${listed}` };
    }
  }
}
