import type { RunEvent, RunStatus, RunView, TeamInput, TeamStateExport } from "@edgeswarm/shared";
import { describe, expect, it } from "vitest";
import { Edgeswarm } from "./client.ts";
import { EdgeswarmApiError, EdgeswarmError } from "./errors.ts";

const RUN = "run_0123456789abcdef01234567";

function view(status: RunStatus): RunView {
  const usage = { inputTokens: 0, outputTokens: 0 };
  return {
    id: RUN,
    status,
    task: "t",
    plan: null,
    currentStep: null,
    iterations: 0,
    result: null,
    usage: { planner: usage, coder: usage, total: usage },
    team: { kind: "swarm", messages: 2, next: "coder" },
    error: null,
    metadata: null,
    createdAt: "",
    updatedAt: "",
    finishedAt: null,
    webhook: null,
    traceId: null,
    links: { self: "", events: "", messages: "", state: "" },
  };
}

const TEAM: TeamInput = {
  kind: "swarm",
  participants: [{ name: "coder", role: "coder", handoffs: ["user"] }],
  termination: { textMention: "DONE" },
};

const STATE: TeamStateExport = {
  version: 1,
  team: {
    kind: "swarm",
    participants: [{ name: "coder", role: "coder", handoffs: ["user"] }],
    termination: { textMention: "DONE" },
  },
  tasks: ["Read the data."],
  messages: [{ speaker: "coder", text: "Which file?", toolCalls: [], handoff: "user" }],
  omitted: 0,
  manager: { kind: "swarm", next: "coder", awaitingInput: true },
  participants: { coder: { role: "coder", said: [0] } },
};

interface Asked {
  method: string;
  url: string;
  body: unknown;
}

/** A client whose fetch records each request and answers it with `answer`. */
function client(answer: (asked: Asked) => Response | Promise<Response>): { swarm: Edgeswarm; asked: Asked[] } {
  const asked: Asked[] = [];
  const swarm = new Edgeswarm({
    url: "http://api.test",
    apiKey: "k",
    retry: { attempts: 3, baseMs: 1, maxMs: 2 },
    fetch: async (input, init) => {
      const one = {
        method: init?.method ?? "GET",
        url: String(input),
        body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      };
      asked.push(one);
      return answer(one);
    },
  });
  return { swarm, asked };
}

const conflict = (message: string) => Response.json({ error: { code: "invalid_state", message } }, { status: 409 });

describe("runs.send", () => {
  it("posts the text to /messages and resolves with the run", async () => {
    const { swarm, asked } = client(() => Response.json(view("running")));
    const run = await swarm.runs.send(RUN, "Use data.csv.");
    expect(run.status).toBe("running");
    expect(asked).toEqual([
      { method: "POST", url: `http://api.test/v1/runs/${RUN}/messages`, body: { text: "Use data.csv." } },
    ]);
  });

  it("rejects a run at work with the API's 409 invalid_state", async () => {
    const { swarm } = client(() => conflict("the run is running: send a message once it awaits input or has ended"));
    const err = await swarm.runs.send(RUN, "again").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeswarmApiError);
    expect(err).toMatchObject({ code: "invalid_state", status: 409, message: expect.stringContaining("is running") });
  });

  it("refuses an empty text before asking", () => {
    const { swarm, asked } = client(() => Response.json(view("running")));
    expect(() => swarm.runs.send(RUN, "")).toThrow(/non-empty string/);
    expect(asked).toEqual([]);
  });
});

describe("runs.state", () => {
  it("gets the team state, which runs.create takes back as fromState", async () => {
    const { swarm, asked } = client(({ method }) =>
      method === "GET" ? Response.json(STATE) : Response.json(view("running"), { status: 201 }),
    );
    const state = await swarm.runs.state(RUN);
    expect(state).toMatchObject({ version: 1, manager: { awaitingInput: true }, messages: [{ text: "Which file?" }] });
    await swarm.runs.create({ task: "Go on.", fromState: state });
    expect(asked.map((a) => `${a.method} ${a.url}`)).toEqual([
      `GET http://api.test/v1/runs/${RUN}/state`,
      "POST http://api.test/v1/runs",
    ]);
    expect(asked[1]?.body).toEqual({ task: "Go on.", fromState: state });
  });

  it("passes a team through to POST /v1/runs as given", async () => {
    const { swarm, asked } = client(() => Response.json(view("running"), { status: 201 }));
    await swarm.runs.create({ task: "Read the data.", team: TEAM });
    expect(asked[0]?.body).toEqual({ task: "Read the data.", team: TEAM });
  });

  it("says the answer is off-contract rather than hand back something else", async () => {
    const { swarm } = client(() => Response.json({ version: 2 }));
    const err = await swarm.runs.state(RUN).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeswarmError);
    expect(err).toMatchObject({ code: "invalid_response" });
  });

  it("is a 409 for a run of the default team", async () => {
    const { swarm } = client(() => conflict("the run has the default team, which has no team state"));
    await expect(swarm.runs.state(RUN)).rejects.toMatchObject({ code: "invalid_state", status: 409 });
  });
});

const at = new Date(0).toISOString();
const ev = (seq: number, type: "run.finished" | "run.continued" | "step.started"): RunEvent => {
  const base = { seq, source: "loop" as const, at, v: 1 as const };
  if (type === "run.finished") return { ...base, type, payload: { status: "succeeded", reason: null, message: null } };
  if (type === "run.continued") return { ...base, type, payload: { text: "more", turn: 1 } };
  return { ...base, type, payload: { step: 0 } };
};
const sse = (events: RunEvent[]) =>
  new Response(events.map((e) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(""));

describe("runs.events and runs.wait on a continued run", () => {
  // The log of a run that ended, was sent a message, and ended again.
  const log = [ev(1, "step.started"), ev(2, "run.finished"), ev(3, "run.continued"), ev(4, "run.finished")];

  /**
   * A server whose first stream stops after the first turn's run.finished, as
   * the Worker's does, and whose run reads as each of `statuses` in turn.
   */
  function continued(statuses: RunStatus[]) {
    let streams = 0;
    const { swarm, asked } = client(({ url }) => {
      const u = new URL(url);
      if (u.searchParams.has("after")) {
        const after = Number(u.searchParams.get("after"));
        const events = log.filter((e) => e.seq > after).slice(0, Number(u.searchParams.get("limit") ?? 100));
        return Response.json({ events, next: events.at(-1)?.seq ?? after, done: false });
      }
      if (u.pathname.endsWith("/events")) return sse(streams++ === 0 ? log.slice(0, 2) : log.slice(2));
      return Response.json(view(statuses.shift() ?? "succeeded"));
    });
    return { swarm, asked, streams: () => streams };
  }

  it("follows past a run.finished that is not the log's last, to the last", async () => {
    const { swarm, streams } = continued(["running"]);
    const seqs: number[] = [];
    for await (const e of swarm.runs.events(RUN)) seqs.push(e.seq);
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(streams()).toBe(2);
  });

  it("wait() resolves once the last turn has ended, not at the first run.finished", async () => {
    const { swarm } = continued(["running", "running", "succeeded"]);
    expect((await swarm.runs.wait(RUN)).status).toBe("succeeded");
  });
});
