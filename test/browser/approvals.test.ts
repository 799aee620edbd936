import type { RunEvent } from "@edgeswarm/shared";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeModels } from "../fakes/models.ts";
import { reply } from "../fakes/server.ts";
import { anthropicToolResults, createRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { launchChromium, type PageProblems, screenshot, watchedPage } from "./browser.ts";

// A coder reply with several run_code calls, under approval "always", decided
// call by call from the run page in a real Chromium against the real stack
// (workerd, an agent, Docker, the fake model servers).
let stack: Stack;
let models: FakeModels;
let browser: Browser;
let context: BrowserContext | undefined;
let opened: Page | undefined;
let problems: PageProblems | undefined;

beforeAll(async () => {
  models = await FakeModels.start("browser-approvals");
  stack = await startStack("browser-approvals", 1, 2, models.vars);
  browser = await launchChromium();
});
afterEach(async ({ task }) => {
  models?.reset();
  const shown = opened;
  if (task.result?.state === "fail" && shown && !shown.isClosed()) {
    const path = await screenshot(shown, "failed-approvals").catch((err: Error) => `no screenshot: ${err.message}`);
    const text = await shown
      .locator("main")
      .innerText({ timeout: 2_000 })
      .catch(() => "");
    console.error(`the page at ${shown.url()} (${path}):\n${text}`);
  }
  const seen = problems?.errors ?? [];
  await context?.close();
  context = undefined;
  opened = undefined;
  problems = undefined;
  expect(seen, "uncaught errors or CSP violations in the page").toEqual([]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await models?.close();
});

/** Opens run `id`'s page, signed in as tenant A, by its address. */
async function openRun(id: string): Promise<Page> {
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const watched = await watchedPage(context);
  problems = watched.problems;
  opened = watched.page;
  await opened.goto(`${stack.worker.url}/#/runs/${id}`);
  await opened.getByLabel("API key").fill(TENANTS.a.key);
  await opened.getByRole("button", { name: "Open dashboard" }).click();
  await opened.getByTestId("timeline").waitFor();
  return opened;
}

const of = <T extends RunEvent["type"]>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

describe("approving a reply's calls one by one", () => {
  it("shows each waiting call with its own controls; the denied one never runs, the approved one does", async () => {
    models.anthropic.enqueue(
      reply.toolCalls([
        { name: "run_code", input: { code: "print('kept')" } },
        {
          name: "run_code",
          input: {
            code: "import cleanup\ncleanup.run()",
            files: [{ path: "cleanup.py", content: "def run():\n    print('refused')" }],
          },
        },
      ]),
      (request) => {
        const results = anthropicToolResults(request.body);
        if (!results[0]?.includes("kept") || !results[1]?.includes("not this one")) {
          return reply.error(400, `the decisions did not reach the coder: ${JSON.stringify(results)}`);
        }
        return reply.toolUse("finish", { summary: "kept the first", code: "print('kept')", verdict: "success" });
      },
    );
    const id = await createRun(stack.api, { task: "Two calls.", planner: null, approval: "always" });
    const page = await openRun(id);

    const card = (call: string) => page.locator(`[data-testid="approval"][data-tool-call-id="${call}"]`);
    const waiting = page.getByTestId("waiting-calls");
    await waiting.locator('[data-tool-call-id="call_2"]').waitFor();
    expect(await waiting.textContent()).toBe("2 calls wait for a decision:call_1 (python)call_2 (python)");
    // Each card shows its own call: its code, and the files it writes before the code runs.
    expect(await card("call_1").locator("pre").first().textContent()).toBe("print('kept')");
    expect(await card("call_1").getByTestId("approval-file").count()).toBe(0);
    expect(await card("call_2").locator("pre").first().textContent()).toBe("import cleanup\ncleanup.run()");
    expect(await card("call_2").getByTestId("approval-file").textContent()).toContain(
      "File it writes first: cleanup.pydef run():",
    );
    await page.locator('.run-status [data-status="awaiting_approval"]').waitFor();

    // The second first: it leaves the list, and the run still waits on the first.
    await card("call_2").getByLabel("Reason").fill("not this one");
    await card("call_2").getByRole("button", { name: "Deny" }).click();
    await card("call_2").filter({ hasText: "Denied: not this one" }).waitFor();
    await page.locator('[data-type="approval.decided"]').filter({ hasText: "Execution denied call_2" }).waitFor();
    await waiting.locator('[data-tool-call-id="call_2"]').waitFor({ state: "detached" });
    expect(await waiting.textContent()).toBe("1 call waits for a decision:call_1 (python)");
    expect(await card("call_1").getByRole("button", { name: "Approve" }).isEnabled()).toBe(true);
    expect(await page.getByTestId("execution").count()).toBe(0);

    await card("call_1").getByRole("button", { name: "Approve" }).click();
    await page.locator('.run-status [data-status="succeeded"]').waitFor();
    await card("call_1").filter({ hasText: "Approved." }).waitFor();
    await waiting.waitFor({ state: "hidden" });
    const executions = page.getByTestId("execution");
    await executions.first().getByTestId("stdout").filter({ hasText: "kept" }).waitFor();
    expect(await executions.count()).toBe(1);
    expect(await executions.first().getAttribute("data-tool-call-id")).toBe("call_1");
    expect(await page.getByRole("button", { name: /^(Approve|Deny)$/ }).count()).toBe(0);

    // What the page sent is what the log holds: each decision names its call.
    const { view, events } = await runToEnd(stack.api, id);
    expect(view.status).toBe("succeeded");
    expect(of(events, "approval.decided").map((e) => e.payload)).toEqual([
      { toolCallId: "call_2", approve: false, reason: "not this one" },
      { toolCallId: "call_1", approve: true, reason: null },
    ]);
    expect(of(events, "execution.finished").map((e) => e.payload.toolCallId)).toEqual(["call_1"]);
    expect(models.anthropic.violations).toEqual([]);
  });
});
