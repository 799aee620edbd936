import { describe, expect, it } from "vitest";
import { type Answer, Contract } from "../../../test/harness/contract.ts";
import { openApiDocument } from "./openapi-doc.ts";
import { EXECUTION_RESULT_EXAMPLES, RUN_CREATED_EXAMPLES } from "./openapi-examples.ts";

// The contract checker the e2e suites use (test/harness/contract.ts), against the document.
type JsonObject = Record<string, unknown>;
const doc = openApiDocument() as unknown as JsonObject;
const contract = new Contract(doc);

const RUN_ID = "run_3f6a1c9e0b7d4a2e8c5f1b90";
const usage = { inputTokens: 10, outputTokens: 5 };
const RUN_VIEW = {
  id: RUN_ID,
  status: "succeeded",
  task: "Print the 10th Fibonacci number.",
  plan: [{ goal: "print it", successCriterion: "55 is printed" }],
  currentStep: null,
  iterations: 1,
  result: { summary: "done", code: "print(55)", stdout: "55\n", files: [], manifest: [], stoppedBy: null },
  usage: { planner: usage, coder: usage, total: { inputTokens: 20, outputTokens: 10 } },
  team: null,
  error: null,
  metadata: null,
  createdAt: "2026-12-02T06:00:00.000Z",
  updatedAt: "2026-12-02T06:00:01.000Z",
  finishedAt: "2026-12-02T06:00:01.000Z",
  webhook: null,
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  links: {
    self: "/v1/runs/x",
    events: "/v1/runs/x/events",
    messages: "/v1/runs/x/messages",
    state: "/v1/runs/x/state",
  },
};
const JSON_TYPE = "application/json; charset=UTF-8";
const getRun = (body: unknown, status = 200): Answer => ({
  method: "GET",
  path: `/v1/runs/${RUN_ID}`,
  status,
  contentType: JSON_TYPE,
  body,
});

const event = (seq: number, type: string, payload: unknown) => ({
  event: type,
  id: String(seq),
  data: JSON.stringify({ seq, type, source: "loop", at: "2026-12-02T06:00:01.000Z", v: 1, payload }),
});

describe("the contract checker", () => {
  it("passes the document's own answer examples", () => {
    for (const { value } of Object.values(EXECUTION_RESULT_EXAMPLES)) {
      expect(
        contract.check({ method: "POST", path: "/v1/executions", status: 200, contentType: JSON_TYPE, body: value }),
      ).toEqual([]);
    }
    for (const { value } of Object.values(RUN_CREATED_EXAMPLES)) {
      expect(
        contract.check({ method: "POST", path: "/v1/runs", status: 201, contentType: JSON_TYPE, body: value }),
      ).toEqual([]);
    }
  });

  it("passes a run's view, and finds the operation behind a path template", () => {
    expect(contract.operation("GET", `/v1/runs/${RUN_ID}?x=1`)?.template).toBe("/v1/runs/{id}");
    expect(contract.operation("GET", "/v1/agents/connect")?.template).toBe("/v1/agents/connect");
    expect(contract.check(getRun(RUN_VIEW))).toEqual([]);
  });

  it("fails an answer once a field is removed from its schema (a mutated copy of the document)", () => {
    const mutated = structuredClone(doc) as { components: { schemas: Record<string, JsonObject> } };
    const runView = mutated.components.schemas.RunView as { properties: JsonObject; required: string[] };
    delete runView.properties.iterations;
    runView.required = runView.required.filter((name) => name !== "iterations");
    const problems = new Contract(mutated as unknown as JsonObject).check(getRun(RUN_VIEW));
    expect(problems.join("\n")).toMatch(
      /GET \/v1\/runs\/run_\w+ → 200: .*must NOT have additional properties \('iterations'\)/,
    );
    // The same answer without the field fails the real document.
    const { iterations: _, ...without } = RUN_VIEW;
    expect(contract.check(getRun(without)).join("\n")).toContain("must have required property 'iterations'");
  });

  it("fails a wrong type, an undocumented status, and a content type the operation does not answer", () => {
    expect(contract.check(getRun({ ...RUN_VIEW, status: "napping" }))).not.toEqual([]);
    expect(contract.check(getRun(RUN_VIEW, 418)).join()).toContain("status 418 is not documented");
    expect(contract.check({ ...getRun(RUN_VIEW), contentType: "text/plain" }).join()).toContain(
      "content type 'text/plain'",
    );
  });

  it("checks an error's code against its status", () => {
    const error = (code: string) => ({ error: { code, message: "no such run" } });
    expect(contract.check(getRun(error("not_found"), 404))).toEqual([]);
    expect(contract.check(getRun(error("invalid_request"), 404)).join()).toContain(
      "must be equal to one of the allowed values",
    );
    expect(contract.check(getRun({ message: "no such run" }, 404))).not.toEqual([]);
  });

  it("fails a route missing from the document, but passes the API's 404 for it", () => {
    const answer = { method: "GET", path: "/v1/nothing", status: 200, contentType: JSON_TYPE, body: {} };
    expect(contract.check(answer).join()).toContain("no operation GET /v1/nothing in the document");
    expect(
      contract.check({ ...answer, status: 404, body: { error: { code: "not_found", message: "no route" } } }),
    ).toEqual([]);
  });

  it("checks each SSE event's data, and that the event is named after its type", () => {
    const stream = (...body: ReturnType<typeof event>[]): Answer => ({
      method: "GET",
      path: `/v1/runs/${RUN_ID}/events`,
      status: 200,
      contentType: "text/event-stream",
      body,
    });
    const finished = { status: "succeeded", reason: null, message: null };
    expect(contract.check(stream(event(7, "run.finished", finished)))).toEqual([]);
    expect(contract.check(stream({ ...event(7, "run.finished", finished), event: "message" })).join()).toContain(
      "SSE event 'message' carries type 'run.finished'",
    );
    expect(contract.check(stream(event(7, "run.finished", { status: "succeeded" })))).not.toEqual([]);
    expect(contract.check(stream(event(7, "run.exploded", finished)))).not.toEqual([]);
    const execution: Answer = {
      method: "POST",
      path: "/v1/executions",
      status: 200,
      contentType: "text/event-stream",
      body: [{ event: "stdout", id: undefined, data: JSON.stringify({ type: "stdout", data: "hi\n" }) }],
    };
    expect(contract.check(execution)).toEqual([]);
  });
});
