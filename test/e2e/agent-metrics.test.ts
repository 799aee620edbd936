import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForLine } from "../../scripts/lib/wait.ts";
import type { AgentProcess } from "../harness/agent.ts";
import { pollUntil } from "../harness/poll.ts";
import { Prometheus, type Sample } from "../harness/prometheus.ts";
import { type Stack, startStack } from "../harness/stack.ts";

// The agent's Prometheus endpoint, scraped by a real Prometheus, and its JSON log.
let stack: Stack;
let agent: AgentProcess;
let metricsAddr: string;
let prometheus: Prometheus;

beforeAll(async () => {
  stack = await startStack("e2e-metrics", 0, 2);
  agent = await stack.startAgent({
    id: "e2e-metrics-1",
    args: ["--metrics-addr", "127.0.0.1:0", "--log-format", "json"],
  });
  const line = await waitForLine(agent.proc.log, /serving metrics at http:\/\//, 10_000, "the metrics address");
  metricsAddr = /serving metrics at http:\/\/([^/]+)\/metrics/.exec(line)?.[1] ?? "";
  prometheus = await Prometheus.start([metricsAddr]);
});
afterAll(async () => {
  await prometheus?.stop();
  await stack?.stop();
});

const byStatus = (samples: Sample[]) => Object.fromEntries(samples.map((s) => [s.metric.status, s.value]));

describe("the agent's metrics", () => {
  it("are scraped by Prometheus: executions by status, and the duration histograms, with the counts the test caused", async () => {
    const results = [];
    for (const code of ["print(1)", "print(2)", "print(3)", "import sys; sys.exit(1)"]) {
      results.push(await stack.api.execute({ language: "python", code }));
    }
    results.push(
      await stack.api.execute({ language: "python", code: "while True: pass", limits: { timeoutMs: 1_000 } }),
    );
    expect(results.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded", "failed", "timed_out"]);

    const expected = { succeeded: 3, failed: 1, timed_out: 1 };
    const seen = await pollUntil(
      async () => {
        const counts = byStatus(await prometheus.query("sum by (status) (edgeswarm_agent_executions_total)"));
        return Object.entries(expected).every(([k, v]) => counts[k] === v) ? counts : undefined;
      },
      { timeoutMs: 30_000, what: "Prometheus to have scraped the executions" },
    );
    expect(seen).toEqual(expected);
    const labels = await prometheus.query("edgeswarm_agent_executions_total");
    for (const s of labels) {
      expect(s.metric).toMatchObject({ language: "python", runtime: "runc", job: "edgeswarm-agent" });
    }
    const [count] = await prometheus.query("sum(edgeswarm_agent_execution_duration_seconds_count)");
    expect(count?.value).toBe(5);
    const [slow] = await prometheus.query('sum(edgeswarm_agent_execution_duration_seconds_bucket{le="0.5"})');
    // The timed-out one took over a second; no execution here takes under 5 ms.
    expect(slow?.value).toBeLessThanOrEqual(4);
    const acquired = await prometheus.query("sum by (kind) (edgeswarm_agent_container_acquire_seconds_count)");
    expect(acquired.reduce((n, s) => n + s.value, 0)).toBe(5);
    const [started] = await prometheus.query("edgeswarm_agent_queue_to_start_seconds_count");
    expect(started?.value).toBe(5);
    const [capacity] = await prometheus.query("edgeswarm_agent_capacity");
    expect(capacity?.value).toBe(2);
    const [rss] = await prometheus.query("edgeswarm_agent_process_resident_memory_bytes");
    expect(rss?.value).toBeGreaterThan(10 * 1024 * 1024);
    const [lag] = await prometheus.query("edgeswarm_agent_nodejs_eventloop_lag_p99_seconds");
    expect(lag?.value).toBeGreaterThanOrEqual(0);

    // Nothing of an execution's own is a label or a value.
    const text = await (await fetch(`http://${metricsAddr}/metrics`)).text();
    for (const r of results) expect(text).not.toContain(r.id);
    expect((await fetch(`http://${metricsAddr}/other`)).status).toBe(404);
  });

  it("logs each execution as one JSON object with its execution id and trace id", async () => {
    const result = await stack.api.execute({ language: "python", code: "print('logged')" });
    const line = await waitForLine(agent.proc.log, new RegExp(result.id), 10_000, "the execution's log line");
    expect(JSON.parse(line)).toMatchObject({
      level: "info",
      agentId: "e2e-metrics-1",
      executionId: result.id,
      traceId: result.traceId,
      message: expect.stringMatching(/^execution succeeded in \d+ ms$/),
    });
    for (const l of agent.proc.log.all) expect(() => JSON.parse(l)).not.toThrow();
  });
});
