import { spawn } from "node:child_process";
import { once } from "node:events";
import { PYTHON_IMAGE } from "../scripts/lib/image.ts";
import { untilNoContainers } from "./docker.ts";
import type { Scenario } from "./measure.ts";
import { AGENT_LABEL, type BenchStack } from "./stack.ts";

/** The workload: trivial Python, so the figures are the cost of a sandbox, not of the code. */
export const WORKLOAD = "print(sum(range(10)))";
const EXPECTED_STDOUT = "45\n";

/** Labels the bench's own `docker run` containers, so cleanup can find any an interrupt left. */
export const BENCH_LABEL = "edgeswarm.bench";

const clip = (text: string) => (text.length > 500 ? `${text.slice(0, 500)}...` : text);

/** `POST /v1/executions` end to end: from the fetch until the JSON answer is read. */
export function edgeswarmExecution(stack: BenchStack): Scenario {
  const body = JSON.stringify({ language: "python", code: WORKLOAD });
  const headers = { Authorization: `Bearer ${stack.apiKey}`, "Content-Type": "application/json" };
  return {
    name: "edgeswarm",
    title: "edgeswarm POST /v1/executions",
    async run(signal) {
      const started = performance.now();
      const res = await fetch(`${stack.url}/v1/executions`, { method: "POST", headers, body, signal });
      const text = await res.text();
      let answer: { status?: string; stdout?: string } = {};
      try {
        answer = JSON.parse(text);
      } catch {
        // reported below with the raw text
      }
      const ms = performance.now() - started;
      if (res.status !== 200 || answer.status !== "succeeded" || answer.stdout !== EXPECTED_STDOUT) {
        throw new Error(`expected status succeeded and stdout "45\\n", got HTTP ${res.status}: ${clip(text)}`);
      }
      return ms;
    },
    // The agent answers before its container is removed; wait for that, untimed.
    settle: () => untilNoContainers(AGENT_LABEL, stack.agentId),
  };
}

/**
 * The baseline: a plain `docker run --rm --network none` of the same image and
 * code through the docker CLI, from spawn until the CLI exits (with --rm, that
 * is after the container is removed).
 */
export function dockerRun(runId: string): Scenario {
  const args = ["run", "--rm", "--network", "none", "--label", `${BENCH_LABEL}=${runId}`, PYTHON_IMAGE];
  args.push("python3", "-c", WORKLOAD);
  return {
    name: "docker-run",
    title: "docker run --rm (CLI)",
    async run(signal) {
      const started = performance.now();
      const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"], signal });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      // "close", not "exit": it comes once stdout is fully read too.
      const [code] = (await once(child, "close")) as [number | null];
      const ms = performance.now() - started;
      if (code !== 0 || stdout !== EXPECTED_STDOUT) {
        throw new Error(`docker run exited with ${code}, stdout ${JSON.stringify(stdout)}, stderr ${clip(stderr)}`);
      }
      return ms;
    },
  };
}
