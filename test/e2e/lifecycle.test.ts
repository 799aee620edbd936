import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForLine } from "../../scripts/lib/wait.ts";
import { readUntilStdout } from "../harness/api.ts";
import { docker, executionContainer, executionContainerGone } from "../harness/docker.ts";
import { type Stack, startStack } from "../harness/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack("e2e-life", 1, 2);
});
afterAll(async () => {
  await stack?.stop();
});

describe("agent lifecycle", () => {
  it("fails an execution agent_lost when its agent is SIGKILLed, and the restarted agent removes the orphan", async () => {
    const agent = stack.agent("e2e-life-1");
    const events = stack.api.stream({
      language: "python",
      code: "import time\nprint('working', flush=True)\ntime.sleep(60)",
    });
    const started = await events.next();
    expect(started.value).toMatchObject({ type: "started", agentId: "e2e-life-1" });
    const id = started.value?.type === "started" ? started.value.id : "";
    await readUntilStdout(events, "working\n");
    const container = await executionContainer(id);

    const killedAt = performance.now();
    await agent.stop("SIGKILL");
    const rest = [];
    for await (const event of events) rest.push(event);
    const lostAfter = performance.now() - killedAt;
    expect(rest).toHaveLength(1);
    expect(rest[0]).toMatchObject({
      type: "finished",
      result: { id, status: "error", agentId: "e2e-life-1", error: { code: "agent_lost" } },
    });
    // A killed process closes its TCP connection at once; docs/agents.md promises 2 s for this case.
    expect(lostAfter).toBeLessThan(2_000);

    // The container outlived its agent; the agent's next life removes it.
    expect((await docker.getContainer(container).inspect()).State.Running).toBe(true);
    await agent.restart();
    // The orphan and the dead agent's warm containers.
    expect(agent.proc.log.all.join("\n")).toMatch(
      /removed \d+ sandbox container\(s\) left by an earlier run of e2e-life-1/,
    );
    await executionContainerGone(id);
  });

  it("fails an execution agent_lost when its agent falls silent with the connection still open", async () => {
    const agent = stack.agent("e2e-life-1");
    const events = stack.api.stream({
      language: "python",
      code: "import time\nprint('working', flush=True)\ntime.sleep(120)",
    });
    const started = await events.next();
    const id = started.value?.type === "started" ? started.value.id : "";
    await readUntilStdout(events, "working\n");

    // A frozen process keeps its TCP connection open but sends no heartbeat.
    const mark = agent.proc.log.all.length;
    const frozenAt = performance.now();
    agent.proc.signal("SIGSTOP");
    try {
      const rest = [];
      for await (const event of events) rest.push(event);
      expect(rest).toEqual([
        expect.objectContaining({
          type: "finished",
          result: expect.objectContaining({ id, error: expect.objectContaining({ code: "agent_lost" }) }),
        }),
      ]);
      // By design 15 s of silence, found by a sweep every 5 s: at most 20 s, plus
      // the alarm's own scheduling slack on a loaded machine (docs/agents.md: agent loss).
      expect(performance.now() - frozenAt).toBeLessThan(25_000);
    } finally {
      agent.proc.signal("SIGCONT");
    }
    // Thawed, the agent learns its connection is gone, stops the orphan, and reconnects.
    await agent.connected(30_000, mark);
    await executionContainerGone(id);
  });

  it("reconnects by itself after the Worker restarts", async () => {
    const agent = stack.agent("e2e-life-1");
    const mark = agent.proc.log.all.length;
    await stack.worker.restart();
    await waitForLine(agent.proc.log, /disconnected/, 10_000, "the agent to notice the restart", mark);
    await agent.connected(30_000, mark);
    const result = await stack.api.execute({ language: "python", code: "print('back')" });
    expect(result).toMatchObject({ status: "succeeded", stdout: "back\n", agentId: "e2e-life-1" });
  });
});
