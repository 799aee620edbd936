import { stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/lib/paths.ts";
import { Proc } from "../../scripts/lib/process.ts";
import { waitForLine } from "../../scripts/lib/wait.ts";
import { shellCommands } from "../harness/curl-examples.ts";
import { docker } from "../harness/docker.ts";
import { codeBlocks, markdownFile } from "../harness/markdown.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { runCommand } from "./command.ts";

// deploy/agent/Dockerfile, built offline by build.sh, run as an operator would:
// the host's Docker socket mounted, against the real local Worker.
const IMAGE = "edgeswarm/agent:test";
const SOCKET = "/var/run/docker.sock";
const NAME = `edgeswarm-deploy-image-${process.pid}`;

let stack: Stack;
/**
 * The options of the `docker run -d` in docs/agents.md's example, as written, plus --network host:
 * the Worker is on this host's loopback. The example's --name, --restart, --stop-timeout and its
 * URL and id are the test's own instead.
 */
let runOptions: string[];

/** The `docker run -d` options of docs/agents.md's container example, `$(stat …)` evaluated. */
async function documentedRunOptions(): Promise<string[]> {
  const doc = "docs/agents.md";
  const block = codeBlocks(doc, await markdownFile(doc)).find((b) => b.body.startsWith("bash deploy/agent/build.sh"));
  const command = block && shellCommands(block.body).find((c) => c.startsWith("docker run -d "));
  if (!command) throw new Error(`${doc} has no docker run -d in its container example`);
  const gid = String((await stat(SOCKET)).gid);
  const words = (command.match(/"[^"]*"|\S+/g) ?? []).map((w) =>
    w === '"$(stat -c %g /var/run/docker.sock)"' ? gid : w.replace(/^"|"$/g, ""),
  );
  const options: string[] = [];
  for (let i = 3; i < words.length - 1; i++) {
    const [flag, value] = [words[i] as string, words[i + 1] as string];
    if (["--name", "--restart", "--stop-timeout"].includes(flag)) i++;
    else if (flag === "-e" && /^EDGESWARM_(URL|AGENT_ID)=/.test(value)) i++;
    else options.push(flag);
  }
  return options;
}

beforeAll(async () => {
  const begun = Date.now();
  // The first build imports the Debian minbase if it is missing; later ones hit Docker's layer cache.
  const built = await runCommand("bash", ["deploy/agent/build.sh", IMAGE], { timeoutMs: 600_000, cwd: ROOT });
  expect(built.code, built.text).toBe(0);
  console.log(`built ${IMAGE} in ${((Date.now() - begun) / 1000).toFixed(1)} s`);
  stack = await startStack("deploy-image", 0);
  runOptions = ["--network", "host", ...(await documentedRunOptions())];
  // What the docs promise about the container, so an edit that drops one fails here.
  expect(runOptions.join(" ")).toContain("--read-only --cap-drop ALL --security-opt no-new-privileges");
  expect(runOptions.join(" ")).toContain(`-v ${SOCKET}:${SOCKET}`);
  expect(runOptions.at(-2)).toBe("-e");
}, 720_000);

afterAll(async () => {
  await docker
    .getContainer(NAME)
    .remove({ force: true })
    .catch(() => {});
  await stack?.stop();
});

/** The docker client's own environment: the token reaches the container by name (-e NAME), never on a command line. */
const clientEnv = () => ({ ...process.env, EDGESWARM_AGENT_TOKEN: TENANTS.a.token });

describe("the agent image", () => {
  it("is labelled with its recipe and runs as a user of its own, with Node 22", async () => {
    const info = await docker.getImage(IMAGE).inspect();
    expect(info.Config.Labels?.["edgeswarm.agent.recipe"]).toMatch(/^[0-9a-f]{16}$/);
    expect(info.Config.User).toBe("10001:10001");
    const version = await runCommand("docker", ["run", "--rm", "--entrypoint", "node", IMAGE, "-v"], {
      timeoutMs: 60_000,
    });
    expect(version.text.trim()).toMatch(/^v22\.\d+\.\d+$/);
  });

  it("passes its own doctor with the socket mounted", async () => {
    const run = await runCommand(
      "docker",
      ["run", "--rm", ...runOptions, IMAGE, "doctor", "--url", stack.worker.url, "--id", "deploy-image-doctor"],
      { timeoutMs: 90_000, env: clientEnv() },
    );
    expect(run.code, run.text).toBe(0);
    expect(run.lines.at(-1)).toBe("all 6 checks passed");
  });

  it("connects to the Worker and runs an execution through the host's Docker, then drains on SIGTERM", async () => {
    const agent = new Proc(
      "docker",
      [
        "run",
        "--rm",
        "--name",
        NAME,
        ...runOptions,
        IMAGE,
        "--url",
        stack.worker.url,
        "--id",
        "deploy-image-1",
        "--capacity",
        "1",
      ],
      clientEnv(),
    );
    try {
      await waitForLine(
        agent.log,
        /connected to pool 'pool-a' as deploy-image-1/,
        60_000,
        "the agent container to connect",
      );
      const listed = (await (await stack.api.get("/v1/agents")).json()) as { agents: { id: string }[] };
      expect(listed.agents.map((a) => a.id)).toEqual(["deploy-image-1"]);

      const result = await stack.api.execute({
        language: "python",
        code: "import os, sys\nprint(sys.version_info[0], 6 * 7, os.getuid())",
      });
      expect(result.status, JSON.stringify(result)).toBe("succeeded");
      // Python 3, the answer, and the sandbox's own user (nobody), not the agent's.
      expect(result.stdout.trim()).toBe("3 42 65534");
    } finally {
      // docker run passes SIGTERM on to the agent, which drains and exits 0; --rm removes it.
      const code = await agent.stop("SIGTERM", 30_000);
      expect(code, agent.log.all.slice(-20).join("\n")).toBe(0);
    }
  });
});
