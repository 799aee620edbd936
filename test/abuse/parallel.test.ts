import type { ExecutionRequestInput, ExecutionResult } from "@edgeswarm/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AbuseStack,
  closeAndCheck,
  executeWhenFree,
  py,
  RUNTIMES,
  startAbuseStack,
  stopAbuseStack,
} from "./stack.ts";

interface Abuse {
  name: string;
  request: ExecutionRequestInput;
  /** "ok", or what was wrong with the result. */
  check(result: ExecutionResult): string;
}

function expectStatus(result: ExecutionResult, status: string, extra = true): string {
  return result.status === status && extra
    ? "ok"
    : `got ${result.status} (${JSON.stringify({ ...result, stdout: result.stdout.slice(0, 200), stderr: result.stderr.slice(0, 200) })})`;
}

const ABUSES: Abuse[] = [
  {
    name: "infinite loop",
    request: { language: "python", code: "while True:\n    pass\n", limits: { timeoutMs: 1_500 } },
    check: (r) => expectStatus(r, "timed_out", r.durationMs >= 1_500),
  },
  {
    name: "memory bomb",
    request: {
      language: "python",
      code: "blocks = []\nwhile True:\n    blocks.append(bytearray(8 * 1024 * 1024))\n",
      limits: { memoryMb: 64, timeoutMs: 60_000 },
    },
    check: (r) => expectStatus(r, "oom_killed"),
  },
  {
    name: "output flood",
    request: {
      language: "python",
      code: "while True:\n    print('x' * 999)\n",
      limits: { outputBytes: 2_048, timeoutMs: 60_000 },
    },
    check: (r) => expectStatus(r, "output_limited", r.stdout.length === 2_048 && r.truncated.stdout),
  },
  {
    name: "sleep forever",
    request: { language: "python", code: "import time\ntime.sleep(10**6)\n", limits: { timeoutMs: 1_000 } },
    check: (r) => expectStatus(r, "timed_out", r.durationMs >= 1_000),
  },
  {
    name: "fork bomb",
    request: { language: "bash", code: ":(){ :|:& };:\nwhile :; do :; done\n", limits: { timeoutMs: 2_000 } },
    check: (r) => expectStatus(r, "timed_out", r.durationMs >= 2_000),
  },
  {
    name: "disk fill",
    request: {
      language: "python",
      code: py(
        "import errno",
        "try:",
        "    with open('/tmp/fill', 'wb') as f:",
        "        while True:",
        "            f.write(b'\\0' * 65536)",
        "except OSError as e:",
        "    print(errno.errorcode[e.errno])",
      ),
      limits: { tmpMb: 16, timeoutMs: 60_000 }, // under the 64 MiB fileSizeMb: ENOSPC, not EFBIG
    },
    check: (r) => expectStatus(r, "succeeded", r.stdout === "ENOSPC\n"),
  },
];

const ABUSIVE = 50;
const BENIGN = 20;

describe.each(RUNTIMES)("parallel abuse under %s", (runtime) => {
  let s: AbuseStack;
  beforeAll(async () => {
    s = await startAbuseStack(runtime, "par", { agents: 2, capacity: 8 });
  });
  afterAll(() => stopAbuseStack(s));

  it(`runs ${ABUSIVE} abusive executions beside ${BENIGN} benign ones, each with its own right result`, async () => {
    const run = async (request: ExecutionRequestInput) => {
      const { result, attempts } = await executeWhenFree(s.api, request);
      await s.containers.executionGone(result.id, 30_000);
      return { result, attempts };
    };
    const abusive = Array.from({ length: ABUSIVE }, (_, i) => ABUSES[i % ABUSES.length] as Abuse);
    const [abused, benign] = await Promise.all([
      Promise.all(abusive.map((a) => run(a.request))),
      Promise.all(
        Array.from({ length: BENIGN }, (_, i) =>
          run({
            language: "python",
            code: "import sys\nprint('benign', sys.argv[1], sys.stdin.read())\n",
            args: [String(i)],
            stdin: `payload-${i}`,
          }),
        ),
      ),
    ]);

    expect
      .soft(benign.map(({ result }) => [result.status, result.exitCode, result.stdout, result.stderr]))
      .toEqual(Array.from({ length: BENIGN }, (_, i) => ["succeeded", 0, `benign ${i} payload-${i}\n`, ""]));
    expect
      .soft(abused.map(({ result }, i) => `${abusive[i]?.name}: ${abusive[i]?.check(result)}`))
      .toEqual(abusive.map((a) => `${a.name}: ok`));
    // 70 executions for 16 slots: each waited its turn in the pool's queue, and none was refused.
    expect([...abused, ...benign].filter(({ attempts }) => attempts > 1)).toEqual([]);
    // Both agents took work.
    expect(new Set([...abused, ...benign].map(({ result }) => result.agentId)).size).toBe(2);
  }, 400_000);

  it("still serves a benign execution, then stops clean", () => closeAndCheck(s));
});
