import { LANGUAGES } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { CODER_TOOLS, RunCodeInput } from "./coder.ts";
import { PLAN_SCHEMA } from "./planner.ts";

// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema, read by key in assertions
const runCode = CODER_TOOLS.find((t) => t.name === "run_code")?.inputSchema as Record<string, any>;

describe("the coder's tool schemas, from zod", () => {
  it("say what RunCodeInput enforces: no extra keys, at most 20 files, code required", () => {
    expect(runCode.additionalProperties).toBe(false);
    expect(runCode.required).toEqual(["code"]);
    expect(runCode.properties.files.maxItems).toBe(20);
    expect(runCode.properties.files.items.additionalProperties).toBe(false);
    expect(runCode.properties.language).toMatchObject({ enum: [...LANGUAGES], default: "python" });
    expect(runCode.$schema).toBeUndefined();
  });

  it("describe what the zod schema accepts and refuses", () => {
    expect(RunCodeInput.safeParse({ code: "print(1)", extra: 1 }).success).toBe(false);
    const files = Array.from({ length: 21 }, (_, i) => ({ path: `f${i}.txt`, content: "" }));
    expect(RunCodeInput.safeParse({ code: "print(1)", files }).success).toBe(false);
    expect(RunCodeInput.parse({ code: "print(1)" }).language).toBe("python");
  });
});

describe("the planner's schema, from zod", () => {
  it("is within OpenAI's strict subset: every object closed, no string length keywords", () => {
    expect(PLAN_SCHEMA).toEqual({
      type: "object",
      properties: {
        steps: {
          type: "array",
          minItems: 1,
          maxItems: 8,
          items: {
            type: "object",
            properties: { goal: { type: "string" }, successCriterion: { type: "string" } },
            required: ["goal", "successCriterion"],
            additionalProperties: false,
          },
        },
      },
      required: ["steps"],
      additionalProperties: false,
    });
  });
});
