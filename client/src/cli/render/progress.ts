import { type PlanStep, type RunEvent, USER_SPEAKER } from "@edgeswarm/shared";
import { WaitingCalls } from "../../sdk/approvals.ts";
import { duration, oneLine } from "../output.ts";
import { LastLines } from "./last-lines.ts";
import { summaryLines } from "./waiting-calls.ts";

/** How many executions the live view lists (the newest). */
const SHOWN_EXECUTIONS = 6;
/** How many running executions it names (a reply's calls may run at once). */
const SHOWN_RUNNING = 3;
/** How many of the newest output lines it shows, of the running execution that printed last. */
const SHOWN_OUTPUT_LINES = 5;
/** How many calls waiting for approval it lists (a reply may make several). */
const SHOWN_WAITING = 6;

/** A speaker's name as the view prints it (names are checked by the API; this keeps the terminal safe regardless). */
const name = (speaker: string) => oneLine(speaker, 32);

type TeamEventType = "participant.replied" | "team.message" | "team.selected" | "team.ledger" | "run.continued";

interface RunningExecution {
  toolCallId: string;
  agentId: string;
  tail: LastLines;
}

interface ExecutionRow {
  iteration: number;
  status: string;
  durationMs: number;
}

/** A team run's part of the view: who is in it, who speaks, what was said last. */
interface TeamView {
  kind: string;
  members: string[];
  messages: number;
  /** The participant whose turn it is (its model call, its tool calls), or the one picked next. */
  speaker: string | null;
  last: { speaker: string; handoff?: string | undefined; text: string } | null;
  /** The latest pick or ledger, in a few words. */
  manager: string;
}

/**
 * The live view `run` draws on a terminal: the plan, the current step and
 * iteration, the latest executions and the tokens used, the running
 * executions with the last lines of output, redrawn in place after each
 * event (cursor up, clear to the end, draw again). A team run shows, in the
 * place of the step, the team, its messages, who speaks, and the last message.
 */
export class ProgressView {
  readonly #runId: string;
  readonly #write: (text: string) => void;
  readonly #width: () => number;
  #drawn = 0;
  #status = "queued";
  #plan: PlanStep[] = [];
  #step: number | null = null;
  #iteration = 0;
  #maxIterations: number | null = null;
  #executions: ExecutionRow[] = [];
  /** Executions started and not finished, by executionId, in the order they started. */
  #running = new Map<string, RunningExecution>();
  /** The running execution that printed last: the one whose lines are shown. */
  #printing: string | null = null;
  #tokens = { in: 0, out: 0 };
  #note = "";
  /** The calls waiting for a decision: listed until each is decided. */
  #waiting = new WaitingCalls();
  /** Each finished step's verdict, by step index. */
  #verdicts = new Map<number, "success" | "failure">();
  #team: TeamView | null = null;

  constructor(runId: string, write: (text: string) => void, width: () => number) {
    this.#runId = runId;
    this.#write = write;
    this.#width = width;
  }

  /** Takes in one event and redraws, unless `draw` is false (a prompt is up). */
  update(e: RunEvent, draw = true): void {
    this.#note = "";
    this.#waiting.add(e);
    switch (e.type) {
      case "run.created": {
        this.#maxIterations = e.payload.maxIterations;
        const team = e.payload.team;
        this.#status = team ? "running" : "planning";
        if (team) {
          const members = team.participants.map((p) => p.name);
          this.#team = { kind: team.kind, members, messages: 0, speaker: null, last: null, manager: "" };
        }
        break;
      }
      case "participant.replied":
      case "team.message":
      case "team.selected":
      case "team.ledger":
        this.#teamEvent(e);
        break;
      case "run.continued":
        // An ended run taken up again (a message sent to it): any run, not only a team's.
        this.#status = "running";
        this.#teamEvent(e);
        break;
      case "plan.created":
        this.#plan = e.payload.steps;
        if (e.payload.usage) this.#add(e.payload.usage);
        this.#status = "running";
        break;
      case "step.started":
        this.#step = e.payload.step;
        break;
      case "coder.replied":
        this.#add(e.payload.usage);
        break;
      case "approval.requested":
        this.#status = "awaiting_approval";
        break;
      case "approval.decided":
        // The run goes on once every call of the reply is decided.
        if (this.#waiting.size === 0) this.#status = "running";
        break;
      case "execution.started":
        this.#running.set(e.payload.executionId, {
          toolCallId: e.payload.toolCallId,
          agentId: e.payload.agentId,
          tail: new LastLines(SHOWN_OUTPUT_LINES),
        });
        break;
      case "execution.output": {
        const running = this.#running.get(e.payload.executionId);
        if (!running) break;
        running.tail.push(e.payload.data);
        this.#printing = e.payload.executionId;
        break;
      }
      case "execution.finished":
        this.#ended(e.payload.executionId, e.payload.toolCallId);
        this.#iteration = e.payload.iteration;
        this.#executions.push({
          iteration: e.payload.iteration,
          status: e.payload.status,
          durationMs: e.payload.durationMs,
        });
        break;
      case "execution.retry":
        this.#ended(null, e.payload.toolCallId);
        this.#note = `retrying: ${oneLine(e.payload.message, 100)}`;
        break;
      case "model.retry":
        this.#note = `retrying: ${oneLine(e.payload.message, 100)}`;
        break;
      case "tool.rejected":
        this.#note = `tool call rejected: ${oneLine(e.payload.message, 100)}`;
        break;
      case "run.finished":
        this.#running.clear();
        this.#status = e.payload.status;
        break;
      case "step.finished":
        this.#verdicts.set(e.payload.step, e.payload.verdict);
        break;
    }
    if (draw) this.draw();
  }

  #teamEvent(e: Extract<RunEvent, { type: TeamEventType }>): void {
    const t = this.#team;
    if (!t) return;
    switch (e.type) {
      case "participant.replied":
        t.speaker = name(e.payload.speaker);
        this.#add(e.payload.usage);
        break;
      case "team.message": {
        const { speaker, handoff, text, usage } = e.payload;
        t.messages++;
        t.last = { speaker, handoff, text };
        t.speaker = null;
        if (usage) this.#add(usage);
        if (handoff === USER_SPEAKER) this.#status = "awaiting_input";
        else if (speaker === USER_SPEAKER) this.#status = "running";
        break;
      }
      case "team.selected":
        if (e.payload.usage) this.#add(e.payload.usage);
        if (e.payload.speaker) t.speaker = name(e.payload.speaker);
        t.manager = e.payload.speaker
          ? `${e.payload.by === "fallback" ? "next in turn" : "selector picked"} ${name(e.payload.speaker)}`
          : `selector named no one (attempt ${e.payload.attempt})`;
        break;
      case "team.ledger": {
        const l = e.payload;
        this.#add(l.usage);
        if (l.kind === "task") t.manager = `${l.replan ? "re-planned" : "planned"}: ${oneLine(l.plan, 200)}`;
        else if (l.isRequestSatisfied.answer) t.manager = `satisfied: ${oneLine(l.isRequestSatisfied.reason, 200)}`;
        else {
          t.speaker = name(l.speaker);
          t.manager = `orchestrator → ${t.speaker} (stalls ${l.stalls}): ${oneLine(l.instruction.answer, 200)}`;
        }
        break;
      }
      case "run.continued":
        t.messages++;
        t.last = { speaker: USER_SPEAKER, text: e.payload.text };
        break;
    }
  }

  /** Forgets a running execution, by its id or its tool call's (a call runs one attempt at a time). */
  #ended(executionId: string | null, toolCallId: string): void {
    for (const [id, x] of this.#running) {
      if (id === executionId || x.toolCallId === toolCallId) this.#running.delete(id);
    }
    if (this.#printing !== null && !this.#running.has(this.#printing)) this.#printing = null;
  }

  #add(usage: { inputTokens: number; outputTokens: number }): void {
    this.#tokens.in += usage.inputTokens;
    this.#tokens.out += usage.outputTokens;
  }

  /** The lines of the view, each cut to the terminal's width so that redrawing counts lines right. */
  lines(): string[] {
    const width = Math.max(20, this.#width());
    const lines = [`run ${this.#runId}  ${this.#status}`];
    this.#plan.forEach((s, i) => {
      const verdict = this.#verdicts.get(i);
      const mark = verdict ? (verdict === "success" ? "✓" : "✗") : i === this.#step ? "▶" : " ";
      lines.push(` ${mark} ${i + 1}. ${oneLine(s.goal, width)}`);
    });
    const step = this.#step === null ? "-" : `${this.#step + 1}${this.#plan.length ? `/${this.#plan.length}` : ""}`;
    const max = this.#maxIterations ? `/${this.#maxIterations}` : "";
    const t = this.#team;
    const where = t
      ? `${t.kind} (${t.members.join(", ")})  message ${t.messages}${t.speaker ? `  speaking: ${t.speaker}` : ""}`
      : `step ${step}`;
    lines.push(`${where}  iteration ${this.#iteration}${max}  tokens ${this.#tokens.in} in / ${this.#tokens.out} out`);
    if (t?.last) {
      const to = t.last.handoff ? ` → ${t.last.handoff}` : "";
      lines.push(`  ${t.last.speaker}${to}: ${oneLine(t.last.text, width)}`);
    }
    if (t?.manager) lines.push(`  ${t.manager}`);
    for (const x of this.#executions.slice(-SHOWN_EXECUTIONS)) {
      lines.push(`  #${x.iteration} ${x.status} ${duration(x.durationMs)}`);
    }
    lines.push(...this.#runningLines());
    lines.push(...this.#waitingLines(width));
    if (this.#note) lines.push(this.#note);
    return lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
  }

  #waitingLines(width: number): string[] {
    const calls = this.#waiting.list();
    if (calls.length === 0) return [];
    const lines = [`waiting for approval of ${calls.length === 1 ? "1 call" : `${calls.length} calls`}:`];
    for (const line of summaryLines(calls.slice(0, SHOWN_WAITING), width)) lines.push(`  ? ${line}`);
    if (calls.length > SHOWN_WAITING) lines.push(`  … and ${calls.length - SHOWN_WAITING} more waiting`);
    // Its own line, so that the command fits a narrow terminal whole.
    const call = calls.length === 1 ? "" : " --call <toolCallId>";
    lines.push(`decide: edgeswarm runs approve ${this.#runId}${call}`);
    return lines;
  }

  #runningLines(): string[] {
    const lines: string[] = [];
    const running = [...this.#running.entries()];
    for (const [, x] of running.slice(0, SHOWN_RUNNING)) {
      lines.push(`  ▶ ${oneLine(x.toolCallId, 40)} running on ${oneLine(x.agentId, 60)}`);
    }
    if (running.length > SHOWN_RUNNING) lines.push(`  … and ${running.length - SHOWN_RUNNING} more running`);
    const printing = this.#printing === null ? undefined : this.#running.get(this.#printing);
    if (printing) {
      if (running.length > 1) lines.push(`  output of ${oneLine(printing.toolCallId, 40)}:`);
      for (const line of printing.tail.lines()) lines.push(`  │ ${line}`);
    }
    return lines;
  }

  draw(): void {
    const lines = this.lines();
    // \x1b[nF: to the start of the line n lines up; \x1b[J: clear to the end of the screen.
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F\x1b[J` : "";
    this.#write(`${up}${lines.join("\n")}\n`);
    this.#drawn = lines.length;
  }

  /** Forgets what was drawn, so what comes next (a prompt, the result) is written below it. */
  release(): void {
    this.#drawn = 0;
  }
}
