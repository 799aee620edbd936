import { describe, expect, it } from "vitest";
import type { WaitingCall } from "../../sdk/approvals.ts";
import { detailLines, summaryLines } from "./waiting-calls.ts";

const RUN = "run_0123456789abcdef01234567";
const calls: WaitingCall[] = [
  { toolCallId: "call_1", step: 0, language: "python", code: "import helper\nprint(helper.VALUE)\n", files: [] },
  {
    toolCallId: "call_2",
    step: 1,
    language: "bash",
    code: "echo \u001b[2J gone",
    files: [{ path: "helper.py", content: "VALUE = 1\n" }],
  },
];

describe("waiting calls as the CLI prints them", () => {
  it("gives each call one line: id, language, step from 1, the files it writes, its code", () => {
    expect(summaryLines(calls)).toEqual([
      "call_1  python, step 1: import helper print(helper.VALUE)",
      "call_2  bash, step 2, writes helper.py: echo \\x1b[2J gone",
    ]);
    expect(summaryLines(calls, 10)[0]).toBe("call_1  python, step 1: import he…");
  });

  it("shows each call whole for runs show, with the command that decides it, escapes made visible", () => {
    expect(detailLines(RUN, calls)).toEqual([
      "waiting:    2 calls wait for a decision",
      `  call_1 (python, step 1): edgeswarm runs approve ${RUN} --call call_1`,
      "    import helper",
      "    print(helper.VALUE)",
      `  call_2 (bash, step 2): edgeswarm runs approve ${RUN} --call call_2`,
      "    echo \\x1b[2J gone",
      "    file it writes first: helper.py",
      "      VALUE = 1",
    ]);
    expect(detailLines(RUN, [])).toEqual([]);
  });
});
