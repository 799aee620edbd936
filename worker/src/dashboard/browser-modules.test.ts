import { describe, expect, it } from "vitest";

// The dashboard's browser modules are plain JavaScript without types (the
// Worker bundles them as text). Their pure parts are tested here, imported by
// a computed path so the Worker's typecheck does not try to type them.
interface DiffLine {
  op: " " | "-" | "+";
  text: string;
}
interface DiffModule {
  lineDiff(before: string, after: string): DiffLine[];
  diffStats(diff: DiffLine[]): { added: number; removed: number };
}
interface Frame {
  id: string | null;
  event: string;
  data: string;
}
interface EventsModule {
  sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame>;
}

interface Edit {
  edit: "extend" | "add" | "drop" | "trim";
  stream?: string;
  text?: string;
  chars?: number;
}
interface LiveOutputModule {
  RENDER_CHARS: number;
  OutputTail: new (
    cap?: number,
  ) => {
    segments: { stream: string; text: string }[];
    length: number;
    dropped: number;
    push(stream: string, text: string): Edit[];
  };
}
interface ImagesModule {
  imageType(path: unknown): string | null;
}
interface ApprovalModule {
  approvalBody(approve: boolean, reason: unknown, toolCallId: string): Record<string, unknown>;
  waitingText(count: number): string;
}
interface TeamCardsModule {
  conditionText(c: unknown): string;
  stoppedByText(stoppedBy: unknown): string | null;
}
interface MessageBoxModule {
  acceptsMessage(status: string): boolean;
}

const load = <T>(path: string): Promise<T> => import(/* @vite-ignore */ path) as Promise<T>;
const { lineDiff, diffStats } = await load<DiffModule>("./static/diff.js");
const { sseFrames } = await load<EventsModule>("./static/events.js");
const { OutputTail, RENDER_CHARS } = await load<LiveOutputModule>("./static/live-output.js");
const { imageType } = await load<ImagesModule>("./static/images.js");
const { approvalBody, waitingText } = await load<ApprovalModule>("./static/approval-card.js");
const { conditionText, stoppedByText } = await load<TeamCardsModule>("./static/team-cards.js");
const { acceptsMessage } = await load<MessageBoxModule>("./static/message-box.js");

const show = (diff: DiffLine[]) => diff.map((l) => `${l.op}${l.text}`);

describe("lineDiff", () => {
  it("keeps common lines and marks the changed ones, in reading order", () => {
    const diff = lineDiff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n");
    expect(show(diff)).toEqual([" a", "-b", "+B", " c", " d", "+e"]);
    expect(diffStats(diff)).toEqual({ added: 2, removed: 1 });
  });

  it("finds the longest common subsequence inside the changed middle", () => {
    expect(show(lineDiff("x\n1\n2\n3\ny", "x\n0\n1\n3\n4\ny"))).toEqual([" x", "+0", " 1", "-2", " 3", "+4", " y"]);
  });

  it("handles empty sides and a missing final newline", () => {
    expect(show(lineDiff("", "a\nb\n"))).toEqual(["+a", "+b"]);
    expect(show(lineDiff("a\n", ""))).toEqual(["-a"]);
    expect(show(lineDiff("a", "a\n"))).toEqual([" a"]);
    expect(lineDiff("same\n", "same\n").every((l) => l.op === " ")).toBe(true);
  });

  it("falls back to removed-then-added past its table cap, without hanging", () => {
    const before = Array.from({ length: 3000 }, (_, i) => `old ${i}`).join("\n");
    const after = Array.from({ length: 3000 }, (_, i) => `new ${i}`).join("\n");
    const diff = lineDiff(before, after);
    expect(diffStats(diff)).toEqual({ added: 3000, removed: 3000 });
    expect(diff[0]).toEqual({ op: "-", text: "old 0" });
    expect(diff.at(-1)).toEqual({ op: "+", text: "new 2999" });
  });
});

function body(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function frames(stream: ReadableStream<Uint8Array>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of sseFrames(stream)) out.push(f);
  return out;
}

describe("sseFrames", () => {
  it("parses frames split anywhere across chunks, and skips keep-alive comments", async () => {
    const got = await frames(
      body("id: 1\nevent: run.crea", 'ted\ndata: {"seq":1}\n', "\n: keep-alive\n\nid: 2\r\ndata: a\r\ndata: b\r\n\r\n"),
    );
    expect(got).toEqual([
      { id: "1", event: "run.created", data: '{"seq":1}' },
      { id: "2", event: "message", data: "a\nb" },
    ]);
  });

  it("drops an unfinished frame at the end of the stream", async () => {
    expect(await frames(body('id: 1\ndata: {"seq":1}\n\nid: 2\ndata: {"se'))).toHaveLength(1);
  });
});

describe("OutputTail", () => {
  it("merges pieces of one stream and starts a segment when the stream changes", () => {
    const tail = new OutputTail(100);
    expect(tail.push("stdout", "a\n")).toEqual([{ edit: "add", stream: "stdout", text: "a\n" }]);
    expect(tail.push("stdout", "b\n")).toEqual([{ edit: "extend", text: "b\n" }]);
    expect(tail.push("stderr", "oops\n")).toEqual([{ edit: "add", stream: "stderr", text: "oops\n" }]);
    expect(tail.push("stdout", "")).toEqual([]);
    expect(tail.segments).toEqual([
      { stream: "stdout", text: "a\nb\n" },
      { stream: "stderr", text: "oops\n" },
    ]);
    expect(tail.length).toBe(9);
  });

  it("keeps only the newest `cap` characters, dropping and trimming from the front", () => {
    const tail = new OutputTail(10);
    tail.push("stdout", "12345");
    tail.push("stderr", "678");
    expect(tail.push("stdout", "abcd")).toEqual([
      { edit: "add", stream: "stdout", text: "abcd" },
      { edit: "trim", chars: 2 },
    ]);
    expect(tail.push("stdout", "efghij")).toEqual([
      { edit: "extend", text: "efghij" },
      { edit: "drop" },
      { edit: "drop" },
    ]);
    expect(tail.segments).toEqual([{ stream: "stdout", text: "abcdefghij" }]);
    expect(tail.dropped).toBe(8);
    // One piece longer than the cap: only its tail is kept at all.
    tail.push("stderr", "x".repeat(25));
    expect(tail.segments).toEqual([{ stream: "stderr", text: "x".repeat(10) }]);
    expect(tail.length).toBe(10);
    expect(tail.dropped).toBe(33);
  });

  it("never splits a surrogate pair at the front, and holds a flood to the default cap", () => {
    const tail = new OutputTail(3);
    tail.push("stdout", "😀ab"); // 4 UTF-16 units: cutting 1 would leave half of the emoji
    expect(tail.segments[0]?.text).toBe("ab");
    tail.push("stdout", "c😀"); // the same when the front is trimmed
    expect(tail.segments[0]?.text).toBe("c😀");
    const flood = new OutputTail();
    for (let i = 0; i < 100; i++) flood.push(i % 2 ? "stderr" : "stdout", "y".repeat(4096));
    expect(flood.length).toBe(RENDER_CHARS);
    expect(flood.segments.length).toBeLessThanOrEqual(RENDER_CHARS / 4096 + 1);
  });
});

describe("imageType", () => {
  it("names png, jpeg and svg by extension, and nothing else", () => {
    expect(imageType("plots/fig.PNG")).toBe("image/png");
    expect(imageType("a.jpg")).toBe("image/jpeg");
    expect(imageType("a.jpeg")).toBe("image/jpeg");
    expect(imageType("chart.svg")).toBe("image/svg+xml");
    for (const path of ["a.html", "png", "a.png.txt", "a.gif", "", null, 7]) expect(imageType(path)).toBeNull();
  });
});

describe("approvalBody", () => {
  it("names the call it decides, and sends a reason only when one was typed", () => {
    expect(approvalBody(true, "  ", "call_2")).toEqual({ approve: true, toolCallId: "call_2" });
    expect(approvalBody(false, " too risky ", "call_1")).toEqual({
      approve: false,
      reason: "too risky",
      toolCallId: "call_1",
    });
    // A card from an event without an id still decides: the first waiting call, as the API picks.
    expect(approvalBody(true, undefined, "")).toEqual({ approve: true });
  });
});

describe("waitingText", () => {
  it("counts the calls that wait, and says nothing when none does", () => {
    expect(waitingText(0)).toBe("");
    expect(waitingText(1)).toBe("1 call waits for a decision:");
    expect(waitingText(3)).toBe("3 calls wait for a decision:");
  });
});

describe("conditionText", () => {
  it("says each termination condition in words, nested ones included", () => {
    expect(conditionText({ textMention: "APPROVE", sources: ["reviewer"] })).toBe('"APPROVE" said by reviewer');
    expect(conditionText({ any: [{ maxMessages: 3 }, { all: [{ tokenUsage: 40 }, { handoff: "user" }] }] })).toBe(
      "any of (3 messages; all of (40 tokens used; a handoff to user))",
    );
    expect(conditionText({ timeoutMs: 2500 })).toBe("2.5 s passed");
    expect(conditionText({ functionCall: "run_code" })).toBe("a call to run_code");
    expect(conditionText({ requestSatisfied: "done" })).toBe("the orchestrator found the request satisfied: done");
    expect(conditionText({ unknown: 1 })).toBe("?");
    expect(conditionText("<b>x</b>")).toBe("?");
  });

  it("names what stopped a team, or nothing for a run without stoppedBy", () => {
    expect(stoppedByText([{ textMention: "READY" }, { maxMessages: 3 }])).toBe(
      'Stopped by "READY" said and 3 messages',
    );
    expect(stoppedByText(null)).toBeNull();
    expect(stoppedByText([])).toBeNull();
  });
});

describe("acceptsMessage", () => {
  it("is open while the team awaits input or once the run has ended, closed while it works", () => {
    for (const status of ["awaiting_input", "succeeded", "failed", "cancelled", "timed_out"]) {
      expect(acceptsMessage(status)).toBe(true);
    }
    for (const status of ["queued", "planning", "running", "awaiting_approval"])
      expect(acceptsMessage(status)).toBe(false);
  });
});
