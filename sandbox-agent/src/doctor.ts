import type { Language } from "@edgeswarm/shared";
import Docker from "dockerode";
import { type AgentConfig, ConfigError, parseConfig, USAGE } from "./config.ts";
import {
  type CheckResult,
  formatResult,
  type ImageFinding,
  imageCheck,
  nodeCheck,
  runtimeCheck,
  summarise,
} from "./doctor-checks.ts";
import { agentTokenCheck, workerUrlCheck } from "./doctor-worker.ts";
import { loadProbeSource, probeImages } from "./image-probe.ts";
import { DockerRuntime, loadRunnerSource } from "./runtime/docker.ts";

/**
 * `edgeswarm-agent doctor [the agent's options]`: checks, with the options the
 * agent would run with and without starting work, that this host can run it:
 * Node, Docker, the runtime, each image and what it holds, and the Worker's URL
 * and token. One line per check, `ok`, `fail` (with a fix) or `skip`; exit 0
 * when all pass, 1 when any fails, 2 when the options are wrong.
 *
 * @example
 *   EDGESWARM_AGENT_TOKEN=... edgeswarm-agent doctor --url https://edgeswarm.example.com --runtime runsc
 */
export async function doctorMain(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config: AgentConfig | "help";
  try {
    config = parseConfig(argv, env);
  } catch (err) {
    if (
      err instanceof ConfigError ||
      (err instanceof Error && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      process.stderr.write(`edgeswarm-agent doctor: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (config === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return runDoctor(config, (line) => process.stdout.write(`${line}\n`));
}

/** Runs every check in order, printing each line as it is known; resolves to the exit code. */
export async function runDoctor(
  config: AgentConfig,
  print: (line: string) => void,
  docker: Docker = new Docker(),
): Promise<number> {
  print(`edgeswarm-agent doctor: agent ${config.agentId}, Worker ${config.url.origin}`);
  const results: CheckResult[] = [];
  const report = (result: CheckResult) => {
    results.push(result);
    print(formatResult(result));
  };

  report(nodeCheck());
  const engine = await dockerCheck(docker);
  report(engine.result);
  if (engine.info) {
    const runtime = runtimeCheck(config.runtime, engine.info);
    report(runtime);
    for (const result of await imageChecks(docker, config, runtime.status === "ok" ? undefined : runtime.detail)) {
      report(result);
    }
  } else {
    report({ check: "runtime", status: "skip", detail: "not checked: Docker does not answer" });
    for (const [image, languages] of byImage(config)) {
      report(imageCheck(image, languages, { kind: "unprobed", why: "Docker does not answer" }));
    }
  }
  const worker = await workerUrlCheck(config);
  report(worker);
  report(
    worker.status === "ok"
      ? await agentTokenCheck(config)
      : { check: "token", status: "skip", detail: "not checked: the Worker does not answer" },
  );
  print(summarise(results));
  return results.some((r) => r.status !== "ok") ? 1 : 0;
}

async function dockerCheck(
  docker: Docker,
): Promise<{ result: CheckResult; info?: { Runtimes?: Record<string, unknown>; DefaultRuntime?: string } }> {
  const where = process.env.DOCKER_HOST ?? "/var/run/docker.sock";
  try {
    await docker.ping();
    const info = (await docker.info()) as { ServerVersion?: string; Runtimes?: Record<string, unknown> };
    return {
      result: { check: "docker", status: "ok", detail: `Docker ${info.ServerVersion ?? "?"} answers at ${where}` },
      info,
    };
  } catch (err) {
    return {
      result: {
        check: "docker",
        status: "fail",
        detail: `Docker does not answer at ${where} (${(err as Error).message})`,
        fix: "start dockerd, and let this user use its socket (the docker group), or set DOCKER_HOST",
      },
    };
  }
}

/** The languages each image serves, in the order the config names them. */
function byImage(config: AgentConfig): Map<string, Language[]> {
  const out = new Map<string, Language[]>();
  for (const [language, image] of Object.entries(config.images) as [Language, string][]) {
    out.set(image, [...(out.get(image) ?? []), language]);
  }
  return out;
}

/**
 * Each image: on this host, then probed as the agent probes it at start
 * (image-probe.ts), in a cold sandbox under the agent's runtime. Probe
 * containers are labelled with an id of their own, so that a running agent's
 * reaping of its own leftovers never meets them.
 */
async function imageChecks(docker: Docker, config: AgentConfig, runtimeProblem?: string): Promise<CheckResult[]> {
  const images = byImage(config);
  const findings = new Map<string, ImageFinding>();
  for (const image of images.keys()) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      findings.set(image, { kind: "missing" });
    }
  }
  const present = [...images.keys()].filter((image) => !findings.has(image));
  if (runtimeProblem) {
    for (const image of present) findings.set(image, { kind: "unprobed", why: runtimeProblem });
  } else if (present.length > 0) {
    const runtime = new DockerRuntime({
      docker,
      agentId: `${config.agentId.slice(0, 56)}.doctor`,
      runnerSource: await loadRunnerSource(),
      runtime: config.runtime,
    });
    try {
      const probeMap = Object.fromEntries(
        Object.entries(config.images).filter(([, image]) => present.includes(image)),
      ) as typeof config.images;
      const probed = await probeImages(
        (spec, sink, signal) => runtime.runAside(spec, sink, signal),
        probeMap,
        await loadProbeSource(),
      );
      for (const image of present) {
        const problem = probed.problems.find((p) => p.startsWith(`${image}: `));
        findings.set(
          image,
          problem
            ? { kind: "probe_failed", problem: problem.slice(image.length + 2) }
            : { kind: "probed", sandboxes: probed.sandboxes.filter((s) => s.image === image) },
        );
      }
    } finally {
      await runtime.close();
    }
  }
  return [...images].map(([image, languages]) =>
    imageCheck(image, languages, findings.get(image) ?? { kind: "missing" }),
  );
}
