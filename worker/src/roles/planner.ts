import { PlanStep, type TokenUsage } from "@edgeswarm/shared";
import { z } from "zod";
import { jsonSchemaOf } from "../models/json-schema.ts";
import { type ModelClient, ModelError } from "../models/model.ts";
import SYSTEM from "../prompts/planner.md";
import { withSandbox } from "./sandbox-brief.ts";

const Plan = z.object({ steps: z.array(PlanStep.strict()).min(1).max(8) }).strict();

/** The plan's JSON Schema, sent as the planner's structured-output schema. */
export const PLAN_SCHEMA = jsonSchemaOf(Plan, { strictOutput: true });

/** Asks the planner for the task's steps; an answer that is not a valid plan fails as a model error. */
export async function makePlan(
  model: ModelClient,
  task: string,
  files: readonly string[],
  sandbox: string | null,
  signal: AbortSignal,
  instructions: string | null = null,
): Promise<{ steps: PlanStep[]; usage: TokenUsage }> {
  const prompt = files.length
    ? `Task:\n${task}\n\nFiles already in the workspace: ${files.join(", ")}`
    : `Task:\n${task}`;
  const answer = await model.structured({
    system: withSandbox(instructions ? `${SYSTEM}\n\n${instructions}` : SYSTEM, sandbox),
    prompt,
    schemaName: "plan",
    schema: PLAN_SCHEMA,
    maxTokens: 4096,
    signal,
  });
  const plan = Plan.safeParse(answer.value);
  if (!plan.success) {
    throw new ModelError(`the planner's answer is not a valid plan: ${z.prettifyError(plan.error)}`, {
      retryable: false,
    });
  }
  return { steps: plan.data.steps, usage: answer.usage };
}
