/**
 * The examples of the OpenAPI document (internal to openapi-doc.ts): the
 * bodies of the README's and docs/api.md's curl examples, and docs/teams.md's
 * team, word for word (openapi-doc.test.ts checks that they are still there
 * and that each request example parses with its zod schema).
 */

type Examples = Record<string, { summary: string; value: unknown }>;

export const EXECUTION_REQUEST_EXAMPLES: Examples = {
  stdin: {
    summary: "Python reading stdin",
    value: { language: "python", code: "import sys\nprint(sys.stdin.read().upper())", stdin: "hi" },
  },
  streaming: {
    summary: "Output that arrives over time (send Accept: text/event-stream)",
    value: { language: "python", code: "import time\nprint(1)\ntime.sleep(1)\nprint(2)" },
  },
  limits: {
    summary: "Tighter limits",
    value: { language: "python", code: "print(6 * 7)", limits: { timeoutMs: 5000, memoryMb: 128 } },
  },
};

export const EXECUTION_RESULT_EXAMPLES: Examples = {
  succeeded: {
    summary: "The stdin example's answer",
    value: {
      id: "ex_5f0c2a9e41d3b8c7a6f5e4d3",
      status: "succeeded",
      exitCode: 0,
      signal: null,
      stdout: "HI\n",
      stderr: "",
      truncated: { stdout: false, stderr: false },
      durationMs: 14,
      files: [],
      agentId: "local-8787-1",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    },
  },
};

export const RUN_REQUEST_EXAMPLES: Examples = {
  task: {
    summary: "A task for the default team (planner, then coder)",
    value: { task: "Write a function that returns the n-th prime and print the 100th." },
  },
  team: {
    summary: "A round-robin team: a coder and a reviewer (docs/teams.md)",
    value: {
      task: "Print the 100th prime.",
      team: {
        kind: "round_robin",
        participants: [
          { name: "coder", role: "coder" },
          {
            name: "reviewer",
            role: "assistant",
            instructions: "Review the coder's last run. Reply APPROVE when it verifies the task, else say what to fix.",
          },
        ],
        termination: { any: [{ textMention: "APPROVE", sources: ["reviewer"] }, { maxMessages: 30 }] },
      },
    },
  },
};

const RUN_ID = "run_3f6a1c9e0b7d4a2e8c5f1b90";

export const RUN_CREATED_EXAMPLES: Examples = {
  created: {
    summary: "A run that has begun planning",
    value: {
      id: RUN_ID,
      status: "planning",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      links: {
        self: `/v1/runs/${RUN_ID}`,
        events: `/v1/runs/${RUN_ID}/events`,
        messages: `/v1/runs/${RUN_ID}/messages`,
        state: `/v1/runs/${RUN_ID}/state`,
      },
    },
  },
};

export const APPROVAL_EXAMPLES: Examples = {
  approve: { summary: "Approve the first waiting call", value: { approve: true } },
  deny: { summary: "Deny it, with a reason the coder reads", value: { approve: false, reason: "no network calls" } },
  one: { summary: "Decide one of several waiting calls", value: { approve: true, toolCallId: "call_2" } },
};

export const MESSAGE_EXAMPLES: Examples = {
  followUp: { summary: "A next task turn for a run that has ended", value: { text: "Now print the 200th prime." } },
};

export const ERROR_EXAMPLES: Examples = {
  invalidRequest: {
    summary: "A limit out of bounds",
    value: {
      error: {
        code: "invalid_request",
        message: "✖ timeoutMs must be at most 300000\n  → at limits.timeoutMs",
        details: [{ path: "limits.timeoutMs", message: "timeoutMs must be at most 300000" }],
      },
    },
  },
};
