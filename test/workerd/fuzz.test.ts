import { ApprovalRequest, ERROR_CODES, ErrorBody, ExecutionRequest, RunRequest } from "@edgeswarm/shared";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { SimulatedAgent } from "../harness/simulated-agent.ts";
import { TestWorker } from "../harness/test-worker.ts";

// 2,000 malformed or hostile requests, made from the API's own zod schemas: a
// body that is mostly right with something wrong in it, a wrong type, a value
// out of range, an unknown field, a huge or deep value, broken JSON, odd
// headers. None may get a 5xx, and every refusal has a stable error code.
// The Worker is the real app in workerd; an agent that answers at once runs
// whatever comes through valid, so no Docker is needed.
const KEY = "fuzz-key-0001";
const TOKEN = "fuzz-agent-token-0001";
const SEED = 20_261_201;
let worker: TestWorker;
let agent: SimulatedAgent;

beforeAll(async () => {
  worker = await TestWorker.start({
    apiKeys: { [KEY]: { tenant: "fuzz", pools: ["fuzz"] } },
    agentTokens: { [TOKEN]: "fuzz" },
    vars: { EDGESWARM_TENANT_LIMITS: JSON.stringify({ fuzz: { concurrentExecutions: 256 } }) },
  });
  agent = await SimulatedAgent.connect({
    url: worker.url,
    token: TOKEN,
    id: "fuzz-agent",
    capacity: 64,
    images: { python: "x", bash: "x", node: "x" },
  });
}, 120_000);
afterAll(async () => {
  agent?.close();
  await worker?.stop();
});

type Schema = Record<string, unknown>;

/** A value of the wrong kind, or an awkward one of the right kind. */
const hostile = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_VALUE, -1, 0, 1.5, -0, 1e21),
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 64 }),
  fc.constantFrom("", "\u0000", "../../etc/passwd", "/abs", "a".repeat(70_000), "\ud800", "ex_'; DROP TABLE"),
  fc.constant([]),
  fc.constant({}),
  fc.constant({ __proto__: { polluted: true } }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}')),
  fc.constant(Array.from({ length: 2_000 }, () => 1)),
  fc.constant(nest(200)),
);

function nest(depth: number): unknown {
  let value: unknown = "deep";
  for (let i = 0; i < depth; i++) value = { a: [value] };
  return value;
}

/** An arbitrary for `schema` (JSON Schema from zod): mostly its own shape, now and then anything at all. */
function arbitrary(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const own = shaped(schema, depth);
  return fc.oneof({ weight: 9, arbitrary: own }, { weight: 1, arbitrary: hostile });
}

function shaped(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  const options = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (options?.length) return fc.oneof(...options.map((o) => arbitrary(o, depth + 1)));
  if (Array.isArray(schema.enum)) return fc.oneof(fc.constantFrom(...schema.enum), fc.string({ maxLength: 8 }));
  if ("const" in schema) return fc.constant(schema.const);
  switch (schema.type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const keys = Object.keys(properties);
      return fc
        .record(
          Object.fromEntries(keys.map((k) => [k, depth > 4 ? hostile : arbitrary(properties[k] as Schema, depth + 1)])),
          { requiredKeys: keys.filter((k) => required.has(k) && depth < 3) },
        )
        .chain((value) =>
          fc
            .option(fc.tuple(fc.string({ maxLength: 12 }), hostile), { freq: 8 })
            .map((extra) => (extra ? { ...value, [extra[0]]: extra[1] } : value)),
        );
    }
    case "array": {
      const items = (schema.items ?? {}) as Schema;
      const max = typeof schema.maxItems === "number" ? schema.maxItems : 8;
      return fc.array(depth > 4 ? hostile : arbitrary(items, depth + 1), { maxLength: Math.min(max + 2, 12) });
    }
    case "string":
      return fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom("python", "bash", "node", "none", "always", "a.txt"),
      );
    case "integer":
    case "number": {
      const min = typeof schema.minimum === "number" ? schema.minimum : -1e6;
      const max = typeof schema.maximum === "number" ? schema.maximum : 1e6;
      return fc.oneof(
        fc.integer({ min: Math.ceil(min), max: Math.floor(Math.min(max, 2 ** 31)) }),
        fc.constantFrom(min - 1, max + 1, 0.5),
      );
    }
    case "boolean":
      return fc.boolean();
    default:
      return hostile;
  }
}

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as unknown as Schema;

interface Case {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

function json(path: string, schema: z.ZodType, n: number, seed: number): Case[] {
  return fc
    .sample(arbitrary(jsonSchema(schema)), { numRuns: n, seed })
    .map((body) => ({ method: "POST", path, body: JSON.stringify(body) }));
}

function odd(n: number, seed: number): Case[] {
  const path = fc.constantFrom("/v1/executions", "/v1/runs", "/v1/runs/run_000000000000000000000000/approval");
  const text = fc.oneof(
    fc.string(),
    fc.constantFrom("{", "[", '{"language":', "null", "true", "1e999", '"x"', "{}}", "\u0000", "\ufeff{}"),
  );
  const headers = fc.record(
    {
      Authorization: fc.constantFrom(`Bearer ${KEY}`, "Bearer", "Basic abc", `bearer ${KEY}`, `Bearer ${KEY} x`, ""),
      "Content-Type": fc.constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x", ""),
      Accept: fc.constantFrom("text/event-stream", "*/*", "application/json"),
    },
    { requiredKeys: [] },
  );
  return fc.sample(fc.record({ path, text, headers }), { numRuns: n, seed }).map((c) => ({
    method: "POST",
    path: c.path,
    body: c.text,
    headers: c.headers as Record<string, string>,
  }));
}

function queries(n: number, seed: number): Case[] {
  const value = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("-1", "1e9", "0", "abc", "%00", "9".repeat(40)));
  const path = fc.oneof(
    value.map((v) => `/v1/runs?limit=${encodeURIComponent(v)}`),
    value.map((v) => `/v1/runs?cursor=${encodeURIComponent(v)}`),
    value.map((v) => `/v1/runs/${encodeURIComponent(v)}`),
    value.map((v) => `/v1/runs/run_000000000000000000000000/events?after=${encodeURIComponent(v)}`),
  );
  return fc
    .sample(fc.tuple(path, fc.constantFrom("GET", "POST", "DELETE", "PUT")), { numRuns: n, seed })
    .map(([p, method]) => ({ method, path: p, headers: { "Last-Event-ID": "x\u00ff" } }));
}

async function send(c: Case): Promise<{ status: number; code: string | null; text: string }> {
  const res = await fetch(`${worker.url}${c.path}`, {
    method: c.method,
    body: c.body,
    headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json", ...c.headers },
  });
  const text = await res.text();
  if (res.status < 400) return { status: res.status, code: null, text };
  const parsed = ErrorBody.safeParse(JSON.parse(text));
  return {
    status: res.status,
    code: parsed.success ? parsed.data.error.code : `unparsed: ${text.slice(0, 200)}`,
    text,
  };
}

describe("fuzzing the API", () => {
  it("answers 2,000 malformed and hostile requests without a 5xx, each refusal with a stable code", async () => {
    const cases = [
      ...json("/v1/executions", ExecutionRequest, 800, SEED),
      ...json("/v1/runs", RunRequest, 500, SEED + 1),
      ...json("/v1/runs/run_000000000000000000000000/approval", ApprovalRequest, 200, SEED + 2),
      ...odd(300, SEED + 3),
      ...queries(200, SEED + 4),
    ];
    expect(cases).toHaveLength(2_000);
    const codes = new Map<string, number>();
    const bad: string[] = [];
    for (let i = 0; i < cases.length; i += 25) {
      const batch = cases.slice(i, i + 25);
      const answers = await Promise.all(batch.map(send));
      answers.forEach((a, j) => {
        const c = batch[j] as Case;
        const key = `${a.status} ${a.code ?? "ok"}`;
        codes.set(key, (codes.get(key) ?? 0) + 1);
        if (a.status >= 500 || (a.code !== null && !(ERROR_CODES as readonly string[]).includes(a.code))) {
          bad.push(`${c.method} ${c.path} ${String(c.body).slice(0, 200)} → ${a.status} ${a.text.slice(0, 300)}`);
        }
      });
    }
    expect(bad).toEqual([]);
    // The mix reached well past the first check: refusals of many kinds, and some that ran.
    console.log(`fuzz answers: ${[...codes].map(([k, n]) => `${k}: ${n}`).join(", ")}`);
    expect([...codes.keys()].filter((k) => k.startsWith("400")).length).toBeGreaterThanOrEqual(2);
    expect(codes.get("200 ok") ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
