import {
  DEFAULT_CONTEXT_POLICY,
  type EventSource,
  type ModelRef,
  type PayloadOf,
  type StoredParticipant,
  TEAM_MESSAGE_CHARS,
} from "@edgeswarm/shared";
import type { ModelClient, ToolSpec } from "../models/model.ts";
import TEAM_SYSTEM from "../prompts/team.md";
import CODER_NOTES from "../prompts/team-coder.md";
import { CODER_TOOLS, conversation } from "../roles/coder.ts";
import { makePlan } from "../roles/planner.ts";
import { keepReply } from "../roles/reply.ts";
import { withSandbox } from "../roles/sandbox-brief.ts";
import type { RunContext } from "../run/driver.ts";
import type { RunState } from "../run/state.ts";
import { HANDOFF_PREFIX, participant, type TeamAction } from "./loop.ts";
import { progressLedger, taskLedger } from "./orchestrator.ts";
import { pickSpeaker } from "./selector.ts";
import type { TeamState } from "./state.ts";
import { roster, transcript, turnSummaries } from "./transcript.ts";

/** The roles whose model calls fail and retry under their own name (model.retry's `role`). */
export type ModelRole = PayloadOf<"model.retry">["role"];

/** What a team's effects need from the Driver. */
export interface TeamEffects {
  ctx: RunContext;
  /** Runs a model call; a failure is retried durably or ends the run `model_error` (the Driver's). */
  model(role: ModelRole, s: RunState, key: string, call: (signal: AbortSignal) => Promise<void>): Promise<void>;
  /** The traced client for a model the run stored. */
  client(ref: ModelRef): Promise<ModelClient>;
  /** The sandbox's description for the prompts. */
  sandbox(s: RunState): Promise<string | null>;
}

const cut = (text: string) =>
  text.length <= TEAM_MESSAGE_CHARS
    ? text
    : `${text.slice(0, TEAM_MESSAGE_CHARS - 40)}\n…(${text.length} characters, cut)`;

export function sourceOf(p: StoredParticipant): EventSource {
  return p.role === "assistant" ? "assistant" : p.role;
}

/** Performs one of a team's actions; its result goes to the log under `key`. */
export async function performTeam(fx: TeamEffects, action: TeamAction, s: RunState, key: string): Promise<void> {
  const t = s.team;
  if (!t) return;
  const ctx = fx.ctx;
  switch (action.kind) {
    case "speak": {
      const p = participant(t, action.speaker);
      if (p.role === "planner") return plan(fx, t, p, s, key);
      return fx.model(p.role, s, key, async (signal) => {
        const model = await fx.client(p.model);
        const reply = await model.chat({
          system: await systemFor(fx, t, p, s),
          messages: conversation(s, `${transcript(s, t)}\n\nYou are ${p.name}. It is your turn.`),
          tools: toolSpecs(t, p),
          maxTokens: 8192,
          cache: (s.created?.context ?? DEFAULT_CONTEXT_POLICY).promptCache,
          signal,
        });
        const kept = keepReply(reply, s.toolCallCount + 1);
        if (kept.toolCalls.length > 0) {
          ctx.append(
            "participant.replied",
            sourceOf(p),
            {
              speaker: p.name,
              turn: t.messages.length,
              text: kept.text,
              toolCalls: kept.toolCalls,
              ...(kept.droppedToolCalls > 0 ? { droppedToolCalls: kept.droppedToolCalls } : {}),
              usage: reply.usage,
            },
            key,
          );
          return;
        }
        ctx.append(
          "team.message",
          sourceOf(p),
          { speaker: p.name, text: cut(kept.text), toolCalls: turnSummaries(s), usage: reply.usage },
          key,
        );
      });
    }
    case "hand_off": {
      const p = participant(t, action.speaker);
      const last = s.turns.findLast((turn) => turn.kind === "reply");
      const text = last?.kind === "reply" ? last.reply.text : "";
      ctx.append(
        "team.message",
        sourceOf(p),
        { speaker: p.name, text: cut(text), toolCalls: turnSummaries(s), handoff: action.to, usage: null },
        key,
      );
      return;
    }
    case "select":
      return fx.model("selector", s, key, async (signal) => {
        const selector = t.config.selector;
        if (!selector) return;
        const pick = await pickSpeaker(await fx.client(selector.model), s, t, signal);
        ctx.append("team.selected", "selector", { by: "selector", ...pick }, key);
      });
    case "fall_back":
      ctx.append(
        "team.selected",
        "loop",
        {
          speaker: action.speaker,
          by: "fallback",
          attempt: t.invalidPicks.length + 1,
          said: "",
          candidates: [action.speaker],
          usage: null,
        },
        key,
      );
      return;
    case "task_ledger":
      return fx.model("orchestrator", s, key, async (signal) => {
        const orchestrator = t.config.orchestrator;
        if (!orchestrator) return;
        const ledger = await taskLedger(await fx.client(orchestrator.model), s, t, signal);
        ctx.append("team.ledger", "orchestrator", { kind: "task", replan: t.taskLedger !== null, ...ledger }, key);
      });
    case "progress_ledger":
      return fx.model("orchestrator", s, key, async (signal) => {
        const orchestrator = t.config.orchestrator;
        if (!orchestrator) return;
        const ledger = await progressLedger(await fx.client(orchestrator.model), s, t, signal);
        ctx.append("team.ledger", "orchestrator", { kind: "progress", ...ledger }, key);
      });
  }
}

/** A planner participant's turn: a plan, through structured output, as its message. */
function plan(fx: TeamEffects, t: TeamState, p: StoredParticipant, s: RunState, key: string): Promise<void> {
  return fx.model("planner", s, key, async (signal) => {
    const files = [...new Set([...(s.created?.files ?? []), ...s.writtenFiles])].sort();
    const made = await makePlan(
      await fx.client(p.model),
      `${transcript(s, t)}\n\nYou are ${p.name}: plan what the team does next.`,
      files,
      await fx.sandbox(s),
      signal,
      p.instructions,
    );
    const text = made.steps.map((step, i) => `${i + 1}. ${step.goal} (done when: ${step.successCriterion})`).join("\n");
    fx.ctx.append(
      "team.message",
      "planner",
      { speaker: p.name, text: cut(`Plan:\n${text}`), toolCalls: [], usage: made.usage, plan: made.steps },
      key,
    );
  });
}

/** A participant's system prompt: the team's, its role's, the team's members, its instructions. */
async function systemFor(fx: TeamEffects, t: TeamState, p: StoredParticipant, s: RunState): Promise<string> {
  const parts = [TEAM_SYSTEM.trim(), `You are ${p.name}, the team's ${p.role}.\n\nThe team:\n${roster(t)}`];
  if (p.tools.includes("run_code")) parts.push(CODER_NOTES.trim());
  if (p.handoffs.length > 0) {
    const to = p.handoffs.map((h) => `${HANDOFF_PREFIX}${h}`).join(", ");
    parts.push(
      `You hand the conversation to another member with a tool (${to}); until you do, the next turn is yours again. ` +
        "Hand off to user when you need the user's answer.",
    );
  }
  if (p.instructions) parts.push(`Your instructions:\n${p.instructions}`);
  const system = parts.join("\n\n");
  return p.tools.includes("run_code") ? withSandbox(system, await fx.sandbox(s)) : system;
}

const NO_ARGUMENTS = { type: "object", properties: {}, additionalProperties: false };

/** The tools a participant is offered: run_code when its tools hold it, and a transfer per handoff. */
function toolSpecs(t: TeamState, p: StoredParticipant): ToolSpec[] {
  const runCode = CODER_TOOLS.filter((tool) => tool.name === "run_code" && p.tools.includes("run_code"));
  const handoffs = p.handoffs.map((h): ToolSpec => {
    const target = t.config.participants.find((q) => q.name === h);
    const about =
      h === "user" ? "the user, who answers the team" : `${h}${target?.description ? `: ${target.description}` : ""}`;
    return {
      name: `${HANDOFF_PREFIX}${h}`,
      description: `Hand the conversation to ${about}.`,
      inputSchema: NO_ARGUMENTS,
    };
  });
  return [...runCode, ...handoffs];
}
