import type { AgentLatencyResult } from "./agent-latency.ts";
import { formatTarget, formatValue, type Target } from "./targets.ts";
import type { ThroughputResult } from "./throughput.ts";

// The tables of the agent's own figures: latency per runtime, side by side,
// and sustained throughput with the agent's health.

const num = (x: number) => x.toFixed(1).padStart(9);
const MiB = 1024 * 1024;
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

/** Targets of several runtimes side by side: the goal, then each runtime's value and verdict. */
function targetRows(columns: { label: string; targets: Target[] }[], width: number): string[] {
  const first = columns[0]?.targets ?? [];
  const cell = (t: Target | undefined) => {
    if (!t) return "".padStart(20);
    return `${formatValue(t.value, t.unit).padStart(10)} ${(t.met ? "met" : "MISSED").padEnd(9)}`;
  };
  return [
    `  ${"target".padEnd(width)}${columns.map((c) => c.label.padStart(10).padEnd(20)).join("")}`,
    ...first.map((t, i) => {
      const goal = `${t.what} ${t.op === "<=" ? "≤" : "≥"} ${t.limit}${t.unit === "x" ? "x" : ` ${t.unit}`}`;
      return `  ${goal.padEnd(width)}${columns.map((c) => cell(c.targets[i])).join("")}`;
    }),
  ];
}

export function formatAgentLatencyTable(results: AgentLatencyResult[], n: number, warmup: number): string {
  const width = 32;
  const titles = results[0]?.scenarios.map((s) => s.title) ?? [];
  const head = results.map((r) => `${r.runtime.padStart(13)}${"".padEnd(5)}`).join("   ");
  const cols = results.map(() => "   p50 ms   p95 ms").join("   ");
  const row = (title: string, cell: (r: AgentLatencyResult) => string) =>
    `  ${title.padEnd(width)}${results.map((r) => cell(r).padStart(9).padEnd(18)).join("   ")}`;
  return [
    `edgeswarm agent-side latency, warm pool: print(sum(range(10))), concurrency 1, ${n} runs each after ${warmup} warm-ups, interleaved`,
    "  (from the fake Worker sending exec.start until exec.finished with exit code 0 arrives; baselines via the docker CLI)",
    "",
    `  ${"".padEnd(width)}${head}`,
    `  ${"method".padEnd(width)}${cols}`,
    ...titles.map(
      (title, i) =>
        `  ${title.padEnd(width)}${results
          .map((r) => {
            const s = r.scenarios[i]?.summary;
            return s ? `${num(s.p50)}${num(s.p95)}` : "".padEnd(18);
          })
          .join("   ")}`,
    ),
    "",
    row("docker run / edgeswarm, p50", (r) => formatValue(r.ratios.dockerRunP50, "x")),
    row("docker exec / edgeswarm, p50", (r) => formatValue(r.ratios.dockerExecP50, "x")),
    row("runs served warm (with warm-ups)", (r) => `${r.served.runs - r.served.cold}/${r.served.runs}`),
    ...results.flatMap((r) =>
      r.retried.map((x) => `  ${r.runtime}: a ${x.scenario} run failed and was repeated: ${x.error.trim()}`),
    ),
    "",
    ...targetRows(
      results.map((r) => ({ label: r.runtime, targets: r.targets })),
      width + 4,
    ),
    "",
  ].join("\n");
}

export function formatThroughputTable(r: ThroughputResult): string {
  const h = r.health;
  const b = r.bystander;
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  const e = r.edgeswarm;
  return [
    `edgeswarm sustained throughput: print(sum(range(10))), concurrency ${r.concurrency}, ${r.durationS} s counted after ${r.warmupS} s warm-up, each once`,
    "",
    `  ${"method".padEnd(58)}  completions   per second`,
    `  ${"raw Docker API: create, start, wait, remove (dockerode)".padEnd(58)}${String(r.docker.completions).padStart(13)}${r.docker.perSecond.toFixed(2).padStart(13)}`,
    `  ${`edgeswarm agent, capacity ${e.capacity}, warm pool ${e.warm}`.padEnd(58)}${String(e.completions).padStart(13)}${e.perSecond.toFixed(2).padStart(13)}`,
    `  ${"edgeswarm / docker".padEnd(58)}${`${r.ratio.toFixed(2)}x`.padStart(26)}`,
    `  host CPUs busy in the window: raw Docker ${pct(r.docker.hostCpuBusy)}, edgeswarm ${pct(e.hostCpuBusy)}`,
    `  the agent process itself: ${e.agentCpuMsPerExecution.toFixed(1)} ms CPU per execution, ${pct(e.agentCpuCores)} of one core`,
    `  cold starts: ${e.coldStarts} of ${e.executions} edgeswarm executions (warm-up included) were not served warm`,
    "",
    `  agent health over ${h.windows} heartbeat windows of 1 s:`,
    `    event-loop delay p99: median window ${h.loopDelayP99Ms.median.toFixed(2)} ms, worst window ${h.loopDelayP99Ms.worst.toFixed(2)} ms`,
    `    a bare Node process beside it, same windows: median ${b.edgeswarm.loopDelayP99Ms.median.toFixed(2)} ms, worst ${b.edgeswarm.loopDelayP99Ms.worst.toFixed(2)} ms`,
    `    (and during the raw Docker window: median ${b.docker.loopDelayP99Ms.median.toFixed(2)} ms, worst ${b.docker.loopDelayP99Ms.worst.toFixed(2)} ms)`,
    `    RSS: start ${mib(h.rssBytes.start)}, end ${mib(h.rssBytes.end)} (growth ${h.rssBytes.growth >= 0 ? "+" : ""}${mib(h.rssBytes.growth)}), max ${mib(h.rssBytes.max)}, last ${mib(h.rssBytes.last)}`,
    "",
    ...r.targets.map((t) => `  ${formatTarget(t, 44)}`),
    "",
  ].join("\n");
}
