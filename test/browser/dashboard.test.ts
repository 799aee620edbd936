import type { RunEvent, RunView } from "@edgeswarm/shared";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FakeAnthropic } from "../fakes/anthropic.ts";
import { FakeModels } from "../fakes/models.ts";
import type { FakeOpenAI } from "../fakes/openai.ts";
import { reply } from "../fakes/server.ts";
import { PLOT_CODE, SLOW_PRINT_CODE, SVG_CODE } from "../harness/programs.ts";
import { createRun, getRun } from "../harness/runs.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { launchChromium, type PageProblems, pngBytes, screenshot, watchedPage } from "./browser.ts";

// The dashboard in a real Chromium against the real stack: the Worker in
// workerd, a sandbox agent, Docker, and the fake model servers.
const AGENT_ID = "browser-dash-1";

let stack: Stack;
let models: FakeModels;
let anthropic: FakeAnthropic;
let openai: FakeOpenAI;
let browser: Browser;
let context: BrowserContext | undefined;
/** The page the current test opened, for showing it when the test fails. */
let openedPage: Page | undefined;
let problems: PageProblems | undefined;
const gates: Gate[] = [];
const screenshots: string[] = [];
/** The run the live test drives; the phone test shows it again. */
let liveRunId = "";

/** A promise the test opens, for holding a fake model's reply until the page has shown what came before. */
interface Gate {
  open(): void;
  opened: Promise<void>;
}
function gate(): Gate {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const g = { open, opened };
  gates.push(g);
  return g;
}

beforeAll(async () => {
  models = await FakeModels.start("browser-dash");
  ({ anthropic, openai } = models);
  stack = await startStack("browser-dash", 1, 2, models.vars);
  browser = await launchChromium();
});
// Replies a test queued and did not use never answer the next test's requests.
afterEach(() => {
  models?.reset();
});
afterEach(async ({ task }) => {
  // When a test failed (a wait timed out, say), show what the page showed.
  const shown = openedPage;
  if (task.result?.state === "fail" && shown && !shown.isClosed()) {
    const name = `failed-${task.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}`;
    const path = await screenshot(shown, name).catch((err: Error) => `no screenshot: ${err.message}`);
    const text = await shown
      .locator("main")
      .innerText({ timeout: 2_000 })
      .catch(() => "");
    console.error(`the page at ${shown.url()} (${path}):\n${text}`);
  }
  openedPage = undefined;
  const seen = problems?.errors ?? [];
  await context?.close();
  context = undefined;
  problems = undefined;
  expect(seen, "uncaught errors or CSP violations in the page").toEqual([]);
});
afterAll(async () => {
  for (const g of gates) g.open();
  await browser?.close();
  await stack?.stop();
  await models?.close();
});

async function openPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  context = await browser.newContext({ viewport });
  const watched = await watchedPage(context);
  problems = watched.problems;
  openedPage = watched.page;
  await openedPage.goto(`${stack.worker.url}/`);
  return openedPage;
}

async function signIn(page: Page, key: string = TENANTS.a.key): Promise<void> {
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Open dashboard" }).click();
}

/** The status pill in the run page's header, once it shows `status`. */
async function waitForRunStatus(page: Page, status: string): Promise<void> {
  await page.locator(`.run-status [data-status="${status}"]`).waitFor();
}

/** Opens a run's page the way its link does: by the address's fragment, in the same document. */
async function openRun(page: Page, id: string): Promise<void> {
  await page.evaluate((runId) => {
    location.hash = `#/runs/${runId}`;
  }, id);
  await page.getByTestId("timeline").waitFor();
}

function runIdOf(page: Page): string {
  const match = /#\/runs\/(run_[0-9a-f]{24})$/.exec(page.url());
  if (!match?.[1]) throw new Error(`not on a run page: ${page.url()}`);
  return match[1];
}

async function startRunFromForm(page: Page, task: string, options: { planner: string; approval: string }) {
  const form = page.getByTestId("new-run");
  await form.getByLabel("Task").fill(task);
  await form.getByLabel("Planner").selectOption(options.planner);
  await form.getByLabel("Approval").selectOption(options.approval);
  await form.getByRole("button", { name: "Start run" }).click();
  await page.waitForURL(/#\/runs\/run_[0-9a-f]{24}$/);
  return runIdOf(page);
}

/**
 * The seqs of the timeline's cards for a log: one per event, except that an
 * execution's output joins its card, and its end takes the card's place.
 */
function cardSeqs(events: RunEvent[]): number[] {
  const started = new Set<string>();
  const seqs: number[] = [];
  for (const e of events) {
    if (e.type === "execution.output") continue;
    if (e.type === "execution.started") started.add(e.payload.toolCallId);
    if (e.type === "execution.finished" && started.delete(e.payload.toolCallId)) continue;
    seqs.push(e.seq);
  }
  return seqs;
}

/**
 * Opens run `id` in a new page, signed in, and lets `held` (the gate the
 * coder's reply waits on) open once the page follows the run live: what the
 * run does next happens in front of the page, however long the page took.
 */
async function watchRun(id: string, held: Gate): Promise<Page> {
  const page = await openPage();
  await signIn(page);
  await openRun(page, id);
  await page.locator('[data-testid="stream-state"][data-state="live"]').waitFor();
  held.open();
  return page;
}

/** The run's events so far, from the log. */
async function loggedEvents(id: string): Promise<RunEvent[]> {
  const res = await stack.api.get(`/v1/runs/${id}/events?limit=1000`);
  return ((await res.json()) as { events: RunEvent[] }).events;
}

async function usageShown(page: Page, role: string): Promise<[number, number]> {
  const cells = await page.locator(`[data-testid="usage"] tr[data-role="${role}"] td`).allTextContents();
  return [Number(cells[0]), Number(cells[1])];
}

describe("dashboard: what the Worker serves", () => {
  it("serves the page without a key, with a strict CSP, nosniff and revalidation", async () => {
    const page = await fetch(`${stack.worker.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    // Widened for a run's images (blob: URLs made by the page's own script) and no further.
    expect(csp.split("; ")).toContain("img-src 'self' blob:");
    expect(csp).not.toContain("data:");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    expect(html).toContain('<meta name="viewport"');
    expect(html).toContain('<script type="module" src="/dashboard/app.js"></script>');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script

    const script = await fetch(`${stack.worker.url}/dashboard/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    const etag = script.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    const again = await fetch(`${stack.worker.url}/dashboard/app.js`, { headers: { "If-None-Match": etag ?? "" } });
    expect(again.status).toBe(304);
  });

  it("answers 404 for a dashboard file that does not exist", async () => {
    for (const path of ["/dashboard/x", "/dashboard/app.ts", "/dashboard/static.d.ts", "/dashboard/"]) {
      const res = await fetch(`${stack.worker.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });
});

describe("dashboard in Chromium", () => {
  it("shows the 401 message for a wrong key, and keeps no key", async () => {
    const page = await openPage();
    await signIn(page, "not-a-real-key-0000");
    const message = page.getByTestId("key-error");
    await message.waitFor();
    expect(await message.textContent()).toContain("401");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.getByLabel("API key").waitFor();
  });

  it("follows a run live: plan, each code version with its diff, outputs, usage, then the result", async () => {
    const fix = gate();
    openai.enqueue(
      reply.structured({ steps: [{ goal: "Print the mean of 3 and 4", successCriterion: "it prints 3.5" }] }),
    );
    anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "values = [3, 4]\nprint(sum(values) / len(valuez))\n" }),
      async () => {
        await fix.opened;
        return reply.toolUse("run_code", {
          language: "python",
          code: "values = [3, 4]\nprint(sum(values) / len(values))\n",
        });
      },
      reply.toolUse("finish", { summary: "prints the mean, 3.5", code: "print(3.5)", verdict: "success" }),
    );
    const page = await openPage();
    await signIn(page);
    const id = await startRunFromForm(page, "Print the mean of 3 and 4.", { planner: "default", approval: "never" });
    liveRunId = id;

    // Before the coder's fix is let through: the plan, v1 and its failed execution are on the page.
    await page.getByTestId("timeline").getByTestId("plan").filter({ hasText: "Print the mean of 3 and 4" }).waitFor();
    await page.getByTestId("code-version").filter({ hasText: "Code v1 (python)" }).waitFor();
    const failed = page.getByTestId("execution").filter({ has: page.locator('[data-status="failed"]') });
    await failed.getByTestId("stderr").filter({ hasText: "NameError: name 'valuez' is not defined" }).waitFor();
    expect(await page.locator('[data-type="run.finished"]').count()).toBe(0);
    expect(await page.getByTestId("execution").count()).toBe(1);
    await page.locator('.run-status [data-status="running"]').waitFor();
    expect(await page.getByTestId("stream-state").getAttribute("data-state")).toBe("live");

    fix.open();
    // v2 arrives as a line diff against v1.
    const v2 = page.locator('[data-testid="code-version"][data-version="2"]');
    await v2.waitFor();
    expect(await v2.locator('[data-op="-"]').allTextContents()).toEqual(["- print(sum(values) / len(valuez))\n"]);
    expect(await v2.locator('[data-op="+"]').allTextContents()).toEqual(["+ print(sum(values) / len(values))\n"]);
    expect(await v2.locator('[data-op=" "]').allTextContents()).toEqual(["  values = [3, 4]\n"]);
    const succeeded = page.getByTestId("execution").filter({ has: page.locator('[data-status="succeeded"]') });
    await succeeded.getByTestId("stdout").filter({ hasText: "3.5" }).waitFor();
    await page.locator('[data-type="run.finished"]').waitFor();
    await waitForRunStatus(page, "succeeded");
    await page.getByTestId("result").filter({ hasText: "prints the mean, 3.5" }).waitFor();
    expect(await page.getByTestId("stream-state").getAttribute("data-state")).toBe("ended");
    expect(await page.getByTestId("execution").count()).toBe(2);

    // Token usage per role, as the API reports it once the run has ended.
    const view: RunView = await getRun(stack.api, id);
    expect(view.status).toBe("succeeded");
    expect(view.usage.planner.inputTokens).toBeGreaterThan(0);
    await page
      .locator('[data-testid="usage"] tr[data-role="total"] td')
      .first()
      .filter({ hasText: String(view.usage.total.inputTokens) })
      .waitFor();
    expect(await usageShown(page, "planner")).toEqual([
      view.usage.planner.inputTokens,
      view.usage.planner.outputTokens,
    ]);
    expect(await usageShown(page, "coder")).toEqual([view.usage.coder.inputTokens, view.usage.coder.outputTokens]);
    expect(await usageShown(page, "total")).toEqual([view.usage.total.inputTokens, view.usage.total.outputTokens]);
    screenshots.push(await screenshot(page, "run-page"));

    // The runs list: newest first, with the run's status and a relative age.
    await page.getByRole("link", { name: "← Runs" }).click();
    const row = page.locator(`[data-testid="run-row"][data-run-id="${id}"]`);
    await row.locator('[data-status="succeeded"]').waitFor();
    expect(await row.locator("time").textContent()).toMatch(/ago$/);
    expect(await page.getByTestId("run-row").first().getAttribute("data-run-id")).toBe(id);
    screenshots.push(await screenshot(page, "runs-list"));
    expect(anthropic.violations).toEqual([]);
    expect(openai.violations).toEqual([]);
  });

  it("approves a parked run with a click, after showing its code and the files it writes, and the run goes on to succeed", async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", {
        code: "import helper\nprint('approved work', helper.VALUE)",
        files: [{ path: "helper.py", content: "VALUE = 'from the helper'" }],
      }),
      reply.toolUse("finish", { summary: "done", code: "print('approved work')", verdict: "success" }),
    );
    const page = await openPage();
    await signIn(page);
    await startRunFromForm(page, "Say something.", { planner: "none", approval: "always" });
    const approval = page.getByTestId("approval");
    await approval.filter({ hasText: "print('approved work', helper.VALUE)" }).waitFor();
    // What the approver sees includes the file the call writes before its code runs.
    const file = approval.getByTestId("approval-file");
    await file.filter({ hasText: "File it writes first: helper.py" }).waitFor();
    expect(await file.textContent()).toContain("VALUE = 'from the helper'");
    await waitForRunStatus(page, "awaiting_approval");
    expect(await page.getByTestId("execution").count()).toBe(0);

    await approval.getByRole("button", { name: "Approve" }).click();
    await page.locator('[data-type="approval.decided"]').filter({ hasText: "Execution approved" }).waitFor();
    await page
      .getByTestId("execution")
      .getByTestId("stdout")
      .filter({ hasText: "approved work from the helper" })
      .waitFor();
    await waitForRunStatus(page, "succeeded");
    await approval.filter({ hasText: "Approved." }).waitFor();
    expect(await approval.getByRole("button", { name: "Approve" }).count()).toBe(0);
  });

  it("denies a parked run with a reason, which ends it without running the code", async () => {
    anthropic.enqueue(reply.toolUse("run_code", { code: "import shutil; shutil.rmtree('/workspace')" }), () =>
      reply.toolUse("finish", { summary: "the reviewer refused; giving up", code: "", verdict: "failure" }),
    );
    // Started through the API; the page opens it by its address.
    const id = await createRun(stack.api, { task: "Clean up.", planner: null, approval: "always" });
    const page = await openPage();
    await signIn(page);
    await openRun(page, id);
    const approval = page.getByTestId("approval");
    await approval.getByRole("button", { name: "Deny" }).waitFor();
    await approval.getByLabel("Reason").fill("too destructive");
    await approval.getByRole("button", { name: "Deny" }).click();
    await approval.filter({ hasText: "Denied: too destructive" }).waitFor();
    await waitForRunStatus(page, "failed");
    await page.getByTestId("run-error").filter({ hasText: "step_failed" }).waitFor();
    expect(await page.getByTestId("execution").count()).toBe(0);
    expect((await getRun(stack.api, id)).status).toBe("failed");
  });

  it("lists the stack's agent with its pool, capacity and heartbeat; Forget key returns to the prompt", async () => {
    const page = await openPage();
    await signIn(page);
    await page.getByRole("link", { name: "Agents" }).click();
    const agent = page.locator(`[data-testid="agent"][data-agent-id="${AGENT_ID}"]`);
    await agent.waitFor();
    const text = (await agent.textContent()) ?? "";
    expect(text).toContain(TENANTS.a.pool);
    expect(text).toMatch(/in use\s*\d+ of 2/);
    expect(text).toContain("healthy");
    expect(await agent.locator("time").first().textContent()).toMatch(/ago$/);

    await page.getByRole("button", { name: "Forget key" }).click();
    await page.getByLabel("API key").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("fits a 390 px phone without sideways scrolling", async () => {
    expect(liveRunId).not.toBe("");
    const page = await openPage({ width: 390, height: 844 });
    await signIn(page);
    await page.getByTestId("run-row").first().waitFor();
    const listWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(listWidth).toBeLessThanOrEqual(390);

    await openRun(page, liveRunId);
    await page.locator('[data-type="run.finished"]').waitFor();
    await page.locator('[data-testid="code-version"][data-version="2"]').waitFor();
    const runWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(runWidth).toBeLessThanOrEqual(390);
    screenshots.push(await screenshot(page, "run-page-phone"));
  });

  it("resumes the event stream after the Worker restarts, missing and repeating nothing", {
    timeout: 150_000,
  }, async () => {
    anthropic.enqueue(
      reply.toolUse("run_code", { code: "print('after the restart')" }),
      reply.toolUse("finish", { summary: "done", code: "print('after the restart')", verdict: "success" }),
    );
    const page = await openPage();
    const resumedFrom: (string | undefined)[] = [];
    page.on("request", (request) => {
      if (!/\/v1\/runs\/run_[0-9a-f]+\/events$/.test(request.url())) return;
      void request.allHeaders().then((headers) => resumedFrom.push(headers["last-event-id"]));
    });
    await signIn(page);
    const id = await startRunFromForm(page, "Survive a restart.", { planner: "none", approval: "always" });
    const approve = page.getByTestId("approval").getByRole("button", { name: "Approve" });
    await approve.waitFor();
    const stream = page.getByTestId("stream-state");
    await page.locator('[data-testid="stream-state"][data-connections="1"][data-state="live"]').waitFor();

    await stack.worker.restart();
    // The page notices the drop and reconnects by itself, from the last event it saw.
    await page.locator('[data-testid="stream-state"][data-connections="2"][data-state="live"]').waitFor({
      timeout: 60_000,
    });
    await approve.click();
    await page.getByTestId("execution").getByTestId("stdout").filter({ hasText: "after the restart" }).waitFor({
      timeout: 90_000,
    });
    await waitForRunStatus(page, "succeeded");
    expect(await stream.getAttribute("data-state")).toBe("ended");

    const shown = (await page
      .locator("[data-testid=timeline] > li")
      .evaluateAll((els) => els.map((el) => Number((el as HTMLElement).dataset.seq)))) as number[];
    const logged = await stack.api.get(`/v1/runs/${id}/events?limit=1000`);
    const { events } = (await logged.json()) as { events: RunEvent[] };
    expect(shown).toEqual(cardSeqs(events));
    expect(await page.getByTestId("timeline").getAttribute("data-events")).toBe(String(events.length));
    // The first connection asked from the start; every later one from the last event seen before
    // the restart (the parked run's approval.requested), so the Worker resent nothing.
    const parkedAt = String(events.find((e) => e.type === "approval.requested")?.seq);
    expect(resumedFrom[0]).toBeUndefined();
    expect(resumedFrom.length).toBeGreaterThan(1);
    expect(resumedFrom.slice(1).every((id) => id === parkedAt)).toBe(true);
  });

  it("shows an execution's output as it arrives, well before it ends, then its whole result", async () => {
    const held = gate();
    anthropic.enqueue(
      async () => {
        await held.opened;
        return reply.toolUse("run_code", { language: "python", code: SLOW_PRINT_CODE });
      },
      reply.toolUse("finish", { summary: "printed twice", code: SLOW_PRINT_CODE, verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Print, wait, print.", planner: null });
    const page = await watchRun(id, held);
    const running = page.locator('[data-testid="execution"][data-state="running"]');
    await running.getByTestId("live-output").filter({ hasText: "first output" }).waitFor();
    // The program is still asleep: the log has its first line and not its end.
    const seen = await loggedEvents(id);
    expect(seen.some((e) => e.type === "execution.output")).toBe(true);
    expect(seen.some((e) => e.type === "execution.finished")).toBe(false);
    expect(await page.locator('[data-type="execution.finished"]').count()).toBe(0);
    expect(await running.textContent()).not.toContain("second output");
    await running.locator('[data-stream="stderr"]').filter({ hasText: "a warning" }).waitFor();
    expect(await running.locator('[data-stream="stdout"]').first().textContent()).toContain("first output");

    // The end replaces the live card with the result, in the same place: one card for the execution.
    const done = page.locator('[data-testid="execution"][data-state="finished"]');
    await done.getByTestId("stdout").filter({ hasText: "second output" }).waitFor();
    expect(await done.getByTestId("stdout").textContent()).toBe("first output\nsecond output\n");
    expect(await done.getByTestId("stderr").textContent()).toBe("a warning\n");
    expect(await page.getByTestId("execution").count()).toBe(1);
    expect(await page.getByTestId("live-output").count()).toBe(0);
    await waitForRunStatus(page, "succeeded");
    const events = await loggedEvents(id);
    const firstOut = events.find((e) => e.type === "execution.output");
    const end = events.find((e) => e.type === "execution.finished");
    expect(Date.parse(end?.at ?? "") - Date.parse(firstOut?.at ?? "")).toBeGreaterThan(1500);
  });

  it("keeps the output of calls that run at once each in its own card", async () => {
    const code = (name: string) =>
      `import time\nprint('from ${name}', flush=True)\ntime.sleep(1.5)\nprint('${name} done', flush=True)\n`;
    const held = gate();
    anthropic.enqueue(
      async () => {
        await held.opened;
        return reply.toolCalls([
          { name: "run_code", input: { language: "python", code: code("A") } },
          { name: "run_code", input: { language: "python", code: code("B") } },
        ]);
      },
      reply.toolUse("finish", { summary: "both ran", code: code("A"), verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Run two at once.", planner: null });
    const page = await watchRun(id, held);
    const card = (name: string) => page.getByTestId("execution").filter({ hasText: `from ${name}` });
    for (const name of ["A", "B"]) await card(name).locator('[data-testid="live-output"]').waitFor();
    // Both are on the page at once, while both still sleep.
    expect(await page.locator('[data-testid="execution"][data-state="running"]').count()).toBe(2);
    for (const [mine, other] of [
      ["A", "B"],
      ["B", "A"],
    ]) {
      expect(await card(mine ?? "").textContent()).not.toContain(`from ${other}`);
    }
    await waitForRunStatus(page, "succeeded");
    for (const name of ["A", "B"]) {
      expect(await card(name).getByTestId("stdout").textContent()).toBe(`from ${name}\n${name} done\n`);
    }
    expect(await page.getByTestId("execution").count()).toBe(2);
  });

  it("keeps a flood of live output to a bounded tail on screen, and says the log was cut", async () => {
    // 300,000 characters at once (past the log's 256 KiB), then a pause to look at the live card.
    const code =
      "import sys, time\nfor i in range(3000):\n    print(f'{i:05d} ' + 'x' * 94)\nsys.stdout.flush()\ntime.sleep(3)\n";
    const held = gate();
    anthropic.enqueue(
      async () => {
        await held.opened;
        return reply.toolUse("run_code", { language: "python", code });
      },
      reply.toolUse("finish", { summary: "flooded", code, verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Flood.", planner: null });
    const page = await watchRun(id, held);
    const running = page.locator('[data-testid="execution"][data-state="running"]');
    await running.locator('[data-testid="live-note"][data-cut="true"]').waitFor();
    const shown = (await running.getByTestId("live-output").textContent()) ?? "";
    expect(shown.length).toBeLessThanOrEqual(64 * 1024);
    expect(shown.length).toBeGreaterThan(60 * 1024);
    // The newest lines are the ones kept: the first are gone, and it ends where the log's cap cut it.
    expect(shown).not.toContain("00000 ");
    expect(Number(/(\d{5}) x*$/.exec(shown)?.[1])).toBeGreaterThan(2500);
    expect(await running.getByTestId("live-note").textContent()).toMatch(/are not shown here.*keeps no more/);
    await page.locator('[data-testid="execution"][data-state="finished"]').waitFor();
    await waitForRunStatus(page, "succeeded");
  });

  it("shows the PNG and the SVG a run wrote inline, in the result and in the execution", async () => {
    const code = `${PLOT_CODE}${SVG_CODE}`;
    anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code }),
      reply.toolUse("finish", { summary: "drew a chart", code, verdict: "success" }),
    );
    const id = await createRun(stack.api, { task: "Draw a chart.", planner: null });
    const page = await openPage();
    await signIn(page);
    const title = await page.title();
    await openRun(page, id);
    await waitForRunStatus(page, "succeeded");
    const view = await getRun(stack.api, id);
    const sizes = Object.fromEntries((view.result?.manifest ?? []).map((f) => [f.path, f.bytes]));
    expect(Object.keys(sizes).sort()).toEqual(["chart.svg", "plot.png"]);

    for (const where of ["result-image", "execution-image"]) {
      for (const path of ["plot.png", "chart.svg"]) {
        const img = page.locator(`[data-testid="${where}"][data-path="${path}"] img`);
        await img.waitFor();
        expect(await img.getAttribute("src"), `${where} ${path}`).toMatch(/^blob:/);
        await page.waitForFunction(
          (el) => el instanceof HTMLImageElement && el.complete && el.naturalWidth > 0,
          await img.elementHandle(),
        );
      }
    }
    const png = page.locator('[data-testid="result-image"][data-path="plot.png"] img');
    const natural = await png.evaluate((el) => [
      (el as HTMLImageElement).naturalWidth,
      (el as HTMLImageElement).naturalHeight,
    ]);
    expect(natural[0]).toBeGreaterThanOrEqual(64);
    // Each file is listed with its size, which is the size of the bytes returned.
    const pngFile = view.result?.files.find((f) => f.path === "plot.png");
    expect(pngFile?.encoding).toBe("base64");
    expect(sizes["plot.png"]).toBe(Buffer.from(pngFile?.content ?? "", "base64").length);
    expect(await page.getByTestId("result-files").locator('[data-path="plot.png"]').textContent()).toMatch(
      /^plot\.png \d+(\.\d)? (B|KiB)$/,
    );
    // The SVG's script did not run, and its markup is not in the page.
    expect(await page.title()).toBe(title);
    expect(await page.locator("main svg script").count()).toBe(0);
    await png.scrollIntoViewIfNeeded();
    screenshots.push(await screenshot(page, "run-images"));
  });

  it("left its screenshots as non-empty PNGs", async () => {
    expect(screenshots.map((p) => p.split("/").at(-1))).toEqual([
      "run-page.png",
      "runs-list.png",
      "run-page-phone.png",
      "run-images.png",
    ]);
    for (const path of screenshots) expect(await pngBytes(path), path).toBeGreaterThan(1000);
  });
});
