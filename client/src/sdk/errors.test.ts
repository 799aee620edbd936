import { describe, expect, it } from "vitest";
import { Edgeswarm } from "./client.ts";
import { EdgeswarmApiError, EdgeswarmError, EdgeswarmUnreachableError } from "./errors.ts";

const URL = "http://api.test";

function stub(answer: (req: Request) => Response | Promise<Response>): typeof fetch {
  return async (input, init) => answer(new Request(input, init));
}

describe("error mapping", () => {
  it("carries the API's code, status, message and details", async () => {
    const swarm = new Edgeswarm({
      url: URL,
      apiKey: "k",
      fetch: stub(() =>
        Response.json(
          {
            error: {
              code: "invalid_request",
              message: "task is required",
              details: [{ path: "task", message: "Required" }],
            },
          },
          { status: 400 },
        ),
      ),
    });
    const err = await swarm.runs.create({ task: "" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeswarmApiError);
    expect(err).toMatchObject({ code: "invalid_request", status: 400, message: "task is required" });
    expect((err as EdgeswarmApiError).details).toEqual([{ path: "task", message: "Required" }]);
  });

  it("keeps the status of an answer that is not the API's error body, and Retry-After", async () => {
    const swarm = new Edgeswarm({
      url: URL,
      apiKey: "k",
      fetch: stub(() => new Response("<html>bad gateway</html>", { status: 502, headers: { "Retry-After": "3" } })),
    });
    const err = (await swarm.runs.get("run_x").catch((e: unknown) => e)) as EdgeswarmApiError;
    expect(err).toMatchObject({ status: 502, code: "internal_error", retryAfter: 3 });
    expect(err.message).toContain("bad gateway");
  });

  it("says unreachable when no answer comes, with the reason", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const swarm = new Edgeswarm({
      url: URL,
      apiKey: "k",
      fetch: () => Promise.reject(new TypeError("fetch failed", { cause: refused })),
    });
    const err = await swarm.agents.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeswarmUnreachableError);
    expect(err).toMatchObject({ code: "unreachable", status: null });
    expect((err as Error).message).toContain("ECONNREFUSED");
  });

  it("calls an answer that breaks the contract invalid_response", async () => {
    const swarm = new Edgeswarm({ url: URL, apiKey: "k", fetch: stub(() => Response.json({ runs: "nope" })) });
    const err = await swarm.runs.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeswarmError);
    expect(err).toMatchObject({ code: "invalid_response", status: 200 });
  });

  it("rethrows the caller's abort reason untouched", async () => {
    const swarm = new Edgeswarm({
      url: URL,
      apiKey: "k",
      fetch: (_input, init) =>
        new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason))),
    });
    const controller = new AbortController();
    const reason = new Error("user gave up");
    const pending = swarm.agents.list({ signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("refuses bad options at once, saying how to fix them", () => {
    expect(() => new Edgeswarm({ url: "127.0.0.1:8787", apiKey: "k" })).toThrow(/http\(s\) URL/);
    expect(() => new Edgeswarm({ url: URL, apiKey: "" })).toThrow(/apiKey/);
    expect(() => new Edgeswarm({ url: URL, apiKey: "k", retry: { attempts: -1 } })).toThrow(/retry.attempts/);
  });

  it("sends the key as a bearer token", async () => {
    let auth: string | null = null;
    const swarm = new Edgeswarm({
      url: `${URL}/`,
      apiKey: "secret-key",
      fetch: stub((req) => {
        auth = req.headers.get("Authorization");
        return Response.json({ agents: [] });
      }),
    });
    expect(await swarm.agents.list()).toEqual([]);
    expect(auth).toBe("Bearer secret-key");
  });
});
