import { type RunView, WEBHOOK_MAX_BODY_BYTES, WebhookPayload } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { webhookBody } from "./payload.ts";

function view(over: Partial<RunView> = {}): RunView {
  return {
    id: "run_000000000000000000000001",
    status: "succeeded",
    task: "Print the mean.",
    plan: [{ goal: "print it", successCriterion: "it prints 3.5" }],
    currentStep: 0,
    iterations: 1,
    result: {
      summary: "prints 3.5",
      code: "print(3.5)",
      stdout: "3.5\n",
      files: [
        { path: "out.txt", content: "héllo", encoding: "utf8" },
        { path: "b.bin", content: "AAEC", encoding: "base64" },
      ],
      manifest: [
        { path: "out.txt", encoding: "utf8", bytes: 6 },
        { path: "b.bin", encoding: "base64", bytes: 3 },
      ],
      stoppedBy: null,
    },
    usage: {
      planner: { inputTokens: 1, outputTokens: 2 },
      coder: { inputTokens: 3, outputTokens: 4 },
      total: { inputTokens: 4, outputTokens: 6 },
    },
    error: null,
    metadata: { customer: "42" },
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:01.000Z",
    finishedAt: "2026-01-01T00:00:01.000Z",
    webhook: {
      deliveryId: "whd_000000000000000000000001",
      state: "pending",
      attempts: 0,
      lastStatus: null,
      lastError: null,
      nextAttemptAt: null,
    },
    traceId: null,
    team: null,
    links: {
      self: "/v1/runs/run_000000000000000000000001",
      events: "/v1/runs/run_000000000000000000000001/events",
      messages: "/v1/runs/run_000000000000000000000001/messages",
      state: "/v1/runs/run_000000000000000000000001/state",
    },
    ...over,
  };
}

const make = (v: RunView) =>
  WebhookPayload.parse(
    JSON.parse(webhookBody({ id: "whd_000000000000000000000001", type: "run.succeeded", createdAt: "t", view: v })),
  );

describe("webhook body", () => {
  it("is the run without file contents or its own delivery status", () => {
    const body = make(view());
    expect(body).toMatchObject({ id: "whd_000000000000000000000001", type: "run.succeeded", truncated: false });
    expect(body.run.result?.files).toEqual([
      { path: "out.txt", encoding: "utf8", bytes: 6 },
      { path: "b.bin", encoding: "base64", bytes: 3 },
    ]);
    expect(body.run.result?.stdout).toBe("3.5\n");
    expect(body.run.metadata).toEqual({ customer: "42" });
    expect("webhook" in body.run).toBe(false);
    expect(JSON.stringify(body)).not.toContain("héllo");
  });

  it("cuts long text fields to stay under the cap, saying so", () => {
    const big = "x".repeat(200_000);
    const body = make(
      view({ task: big, result: { summary: big, code: big, stdout: big, files: [], manifest: [], stoppedBy: null } }),
    );
    expect(body.truncated).toBe(true);
    expect(body.run.task.length).toBeLessThan(5000);
    expect(body.run.task).toContain("characters cut");
    expect(body.run.plan).not.toBeNull();
  });

  it("stays under the cap whatever the run holds", () => {
    const worst = "\u0001".repeat(300_000); // 6 bytes each once JSON-escaped
    const steps = Array.from({ length: 8 }, () => ({ goal: worst, successCriterion: worst }));
    const files = Array.from({ length: 100 }, (_, i) => ({
      path: `${"d/".repeat(100)}${i}`,
      content: "",
      encoding: "utf8" as const,
    }));
    const metadata = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, worst.slice(0, 1024)]));
    const text = webhookBody({
      id: "whd_000000000000000000000001",
      type: "run.failed",
      createdAt: "t",
      view: view({
        task: worst,
        plan: steps,
        metadata,
        error: { reason: "model_error", message: worst },
        result: {
          summary: worst,
          code: worst,
          stdout: worst,
          files,
          manifest: files.map((f) => ({ path: f.path, encoding: f.encoding, bytes: 0 })),
          stoppedBy: null,
        },
      }),
    });
    expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(WEBHOOK_MAX_BODY_BYTES);
    const body = WebhookPayload.parse(JSON.parse(text));
    expect(body).toMatchObject({ truncated: true, run: { plan: null, metadata: null, result: { files: [] } } });
  });
});
