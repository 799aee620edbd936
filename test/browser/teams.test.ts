import type { TeamInput } from "@edgeswarm/shared";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeModels } from "../fakes/models.ts";
import { type RecordedRequest, reply } from "../fakes/server.ts";
import { createRun, getRun } from "../harness/runs.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { launchChromium, type PageProblems, screenshot, watchedPage } from "./browser.ts";

// A team's run page (issue 14) in a real Chromium against the real stack
// (workerd, an agent, Docker, the fake model servers): who said what, the
// selector's picks, the orchestrator's ledgers, and the message box that
// answers a team waiting for the user or continues an ended run.
let stack: Stack;
let models: FakeModels;
let browser: Browser;
let context: BrowserContext | undefined;
let opened: Page | undefined;
let problems: PageProblems | undefined;

beforeAll(async () => {
  models = await FakeModels.start("browser-teams");
  stack = await startStack("browser-teams", 1, 2, models.vars);
  browser = await launchChromium();
});
afterEach(async ({ task }) => {
  models?.reset();
  const shown = opened;
  if (task.result?.state === "fail" && shown && !shown.isClosed()) {
    const path = await screenshot(shown, "failed-teams").catch((err: Error) => `no screenshot: ${err.message}`);
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

const OPENAI_MINI = { provider: "openai", model: "gpt-4o-mini" } as const;

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

/** The run page's team messages, or those of one speaker. */
const messages = (page: Page, speaker?: string): Locator =>
  page.locator(speaker ? `[data-testid="team-message"][data-speaker="${speaker}"]` : '[data-testid="team-message"]');

/** Each team message's visible speaker label, in the timeline's order. */
const shownSpeakers = (page: Page) => messages(page).locator(".event-title .speaker").allTextContents();

const waitForStatus = (page: Page, status: string) => page.locator(`.run-status [data-status="${status}"]`).waitFor();

/** A request's body as text, for what it carries. */
const body = (r: RecordedRequest | undefined) => JSON.stringify(r?.body ?? null);

describe("a round_robin team's page", () => {
  it("names the speaker of each message, with the coder's run and the reviewer's verdict; a message continues it", async () => {
    models.anthropic.enqueue(
      reply.toolUse("run_code", { language: "python", code: "print(1 + 1)" }),
      reply.text("It prints 2."),
      reply.text("APPROVE"),
    );
    const team: TeamInput = {
      kind: "round_robin",
      participants: [
        { name: "coder", role: "coder" },
        { name: "reviewer", role: "assistant", instructions: "Reply APPROVE when the coder's run is right." },
      ],
      termination: { any: [{ textMention: "APPROVE", sources: ["reviewer"] }, { maxMessages: 10 }] },
    };
    const id = await createRun(stack.api, { task: "Print the sum of 1 and 1.", team });
    const page = await openRun(id);

    await waitForStatus(page, "succeeded");
    await page.locator('[data-type="run.finished"]').getByTestId("stopped-by").waitFor();
    expect(await page.getByTestId("team-kind").textContent()).toBe("team round_robin");
    expect(await shownSpeakers(page)).toEqual(["coder", "reviewer"]);
    // The coder's turn: its reply with the call (mid-turn), then its message with the call's outcome.
    const working = page.locator('[data-type="participant.replied"][data-speaker="coder"]');
    expect(await working.locator(".speaker").textContent()).toBe("coder");
    expect(await working.getByTestId("code-version").textContent()).toContain("print(1 + 1)");
    const coder = messages(page, "coder");
    expect(await coder.locator(".message-text").textContent()).toBe("It prints 2.");
    const call = coder.getByTestId("tool-summary");
    expect(await call.locator(".code-title").textContent()).toBe("run_code (call_1) succeeded exit code 0");
    expect(await call.getByTestId("stdout").textContent()).toBe("2\n");
    expect(await messages(page, "reviewer").locator(".message-text").textContent()).toBe("APPROVE");
    expect(await page.locator('[data-type="run.finished"]').getByTestId("stopped-by").textContent()).toBe(
      'Stopped by "APPROVE" said by reviewer',
    );
    expect(await page.getByTestId("stream-state").getAttribute("data-state")).toBe("ended");

    // The ended run takes a follow-up from the box; the page follows its new turn on a new stream.
    const before = models.anthropic.requests.length;
    models.anthropic.enqueue(reply.text("It would print 3."), reply.text("APPROVE"));
    const box = page.getByTestId("message-box");
    await box.getByLabel("Message").fill("Now add 1 and 2.");
    await box.getByRole("button", { name: "Send" }).click();
    await page.getByTestId("follow-up").filter({ hasText: "Now add 1 and 2." }).waitFor();
    await messages(page, "coder").filter({ hasText: "It would print 3." }).waitFor();
    await page.locator('[data-type="run.finished"]').nth(1).waitFor();
    await waitForStatus(page, "succeeded");
    expect(await shownSpeakers(page)).toEqual(["coder", "reviewer", "coder", "reviewer"]);
    expect(body(models.anthropic.requests[before])).toContain("Now add 1 and 2.");

    // Opened afresh, the page shows both turns: it reads on past the first run.finished.
    await page.reload();
    await page.locator('[data-type="run.finished"]').nth(1).waitFor();
    expect(await shownSpeakers(page)).toEqual(["coder", "reviewer", "coder", "reviewer"]);
    expect(await page.getByTestId("follow-up").count()).toBe(1);
    await page.locator('[data-testid="stream-state"][data-state="ended"]').waitFor();
    expect(models.anthropic.violations).toEqual([]);
  });
});

describe("a selector team's page", () => {
  it("shows each pick: an answer that names no one, then the participant picked", async () => {
    models.openai.enqueue(reply.text("nobody"), reply.text("critic"));
    models.anthropic.enqueue(reply.text("The draft is too long."));
    const id = await createRun(stack.api, {
      task: "Write a haiku about rain.",
      team: {
        kind: "selector",
        participants: [
          { name: "writer", role: "assistant", description: "writes drafts" },
          { name: "critic", role: "assistant", description: "criticises drafts" },
        ],
        selector: { model: OPENAI_MINI },
        termination: { maxMessages: 1 },
      },
    });
    const page = await openRun(id);

    await waitForStatus(page, "succeeded");
    const picks = page.getByTestId("selection");
    await picks.nth(1).waitFor();
    expect(await picks.first().getAttribute("data-pick")).toBe("invalid");
    expect(await picks.first().locator(".event-title").textContent()).toBe(
      "selector's pick names no participant (attempt 1)",
    );
    expect(await picks.first().getByTestId("said").textContent()).toBe("nobody");
    expect(await picks.nth(1).locator(".event-title").textContent()).toBe("selector picks critic");
    expect(await shownSpeakers(page)).toEqual(["critic"]);
    expect(await messages(page, "critic").locator(".message-text").textContent()).toBe("The draft is too long.");
    expect(await page.getByTestId("team-kind").textContent()).toBe("team selector");
  });
});

describe("a magentic_one team's page", () => {
  it("shows the orchestrator's task ledger and each progress ledger's answers", async () => {
    const progress = (satisfied: boolean, next: string, instruction: string) =>
      reply.structured({
        is_request_satisfied: { reason: satisfied ? "the haiku is written" : "no haiku yet", answer: satisfied },
        is_in_loop: { reason: "first round", answer: false },
        is_progress_being_made: { reason: "just started", answer: true },
        next_speaker: { reason: "drafting is the writer's", answer: next },
        instruction: { reason: "the plan's first step", answer: instruction },
      });
    models.openai.enqueue(
      reply.structured({ facts: "A haiku has three lines.", plan: "- writer drafts the haiku" }),
      progress(false, "writer", "Draft the haiku."),
      progress(true, "writer", ""),
    );
    models.anthropic.enqueue(reply.text("Rain on the roof, soft."));
    const id = await createRun(stack.api, {
      task: "Write a haiku about rain.",
      team: {
        kind: "magentic_one",
        participants: [
          { name: "writer", role: "assistant" },
          { name: "critic", role: "assistant" },
        ],
        orchestrator: { model: OPENAI_MINI },
      },
    });
    const page = await openRun(id);

    await waitForStatus(page, "succeeded");
    const task = page.locator('[data-testid="ledger"][data-ledger="task"]');
    expect(await task.getByTestId("ledger-plan").textContent()).toBe("- writer drafts the haiku");
    expect(await task.getByTestId("ledger-facts").textContent()).toBe("A haiku has three lines.");
    const first = page.locator('[data-testid="ledger"][data-ledger="progress"]').first();
    expect(await first.locator(".event-title .speaker").textContent()).toBe("writer");
    const answer = (field: string) => first.locator(`[data-field="${field}"] dd`).textContent();
    expect(await answer("next-speaker")).toBe("writer drafting is the writer's");
    expect(await answer("instruction")).toBe("Draft the haiku. the plan's first step");
    expect(await answer("satisfied")).toBe("no no haiku yet");
    expect(await answer("stalls")).toBe("0");
    expect(await shownSpeakers(page)).toEqual(["writer"]);
    await page
      .getByTestId("result-stopped-by")
      .filter({ hasText: "Stopped by the orchestrator found the request satisfied: the haiku is written" })
      .waitFor();
  });
});

describe("the message box", () => {
  it("answers a swarm that handed the conversation to the user; the reply goes to the next model call", async () => {
    models.anthropic.enqueue(reply.toolUse("transfer_to_user", {}, { text: "Which file should I write?" }));
    const id = await createRun(stack.api, {
      task: "Write a file.",
      team: {
        kind: "swarm",
        participants: [{ name: "coder", role: "coder", handoffs: ["user"] }],
        termination: { textMention: "DONE" },
      },
    });
    const page = await openRun(id);

    await waitForStatus(page, "awaiting_input");
    const asked = messages(page, "coder");
    expect(await asked.locator(".message-text").textContent()).toBe("Which file should I write?");
    expect(await asked.getByTestId("handoff").textContent()).toBe(" → user");
    expect(await page.locator('[data-type="participant.replied"] .handoff').textContent()).toBe("Hands off to user");
    await page.getByTestId("awaiting-input").waitFor();
    const box = page.getByTestId("message-box");
    const send = box.getByRole("button", { name: "Send" });
    expect(await send.isEnabled()).toBe(true);

    const before = models.anthropic.requests.length;
    models.anthropic.enqueue((request) =>
      body(request).includes("Write answer.txt, please.")
        ? reply.text("Wrote answer.txt. DONE")
        : reply.error(400, "the user's message did not reach the coder"),
    );
    await box.getByLabel("Message").fill("Write answer.txt, please.");
    await send.click();
    await messages(page, "user").filter({ hasText: "Write answer.txt, please." }).waitFor();
    await messages(page, "coder").filter({ hasText: "Wrote answer.txt. DONE" }).waitFor();
    await waitForStatus(page, "succeeded");
    expect(await shownSpeakers(page)).toEqual(["coder", "user", "coder"]);
    expect(await messages(page, "user").locator(".speaker").textContent()).toBe("user");
    expect(body(models.anthropic.requests[before])).toContain("Write answer.txt, please.");
    expect((await getRun(stack.api, id)).result?.stoppedBy).toEqual([{ textMention: "DONE" }]);
  });

  it("shows the API's refusal when the run was answered meanwhile, and stays closed while the run works", async () => {
    const asked = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    models.anthropic.enqueue(reply.toolUse("transfer_to_user", {}, { text: "Which one?" }), async () => {
      asked.resolve();
      await release.promise;
      return reply.text("Took the first. DONE");
    });
    const id = await createRun(stack.api, {
      task: "Pick one.",
      team: {
        kind: "swarm",
        participants: [{ name: "coder", role: "coder", handoffs: ["user"] }],
        termination: { textMention: "DONE" },
      },
    });
    const page = await openRun(id);
    await waitForStatus(page, "awaiting_input");
    const box = page.getByTestId("message-box");
    const send = box.getByRole("button", { name: "Send" });
    await box.getByLabel("Message").fill("The second.");

    // Another caller answers first, while the page's view of the run is held back: it still
    // shows the run awaiting input, so the box is open, and the API refuses the second answer.
    const held = Promise.withResolvers<void>();
    const view = (url: URL) => url.pathname === `/v1/runs/${id}`;
    await page.route(view, async (route) => {
      await held.promise;
      await route.continue().catch(() => {});
    });
    const res = await stack.api.raw(`/v1/runs/${id}/messages`, JSON.stringify({ text: "The first." }));
    expect(res.status).toBe(200);
    await messages(page, "user").filter({ hasText: "The first." }).waitFor();
    await asked.promise;
    await send.click();
    const error = box.getByTestId("message-error");
    await error.filter({ hasText: "Could not send (409 invalid_state)" }).waitFor();
    expect(await error.textContent()).toContain("the run is running");
    expect(await box.getByLabel("Message").inputValue()).toBe("The second.");

    // Once the page sees the run working, the box is closed; it opens again when the run ends.
    held.resolve();
    await page.unroute(view);
    await waitForStatus(page, "running");
    expect(await send.isDisabled()).toBe(true);
    release.resolve();
    await waitForStatus(page, "succeeded");
    expect(await send.isEnabled()).toBe(true);
    expect(await shownSpeakers(page)).toEqual(["coder", "user", "coder"]);
  });
});
