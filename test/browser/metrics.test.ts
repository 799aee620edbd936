import type { TenantStats } from "@edgeswarm/shared";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeModels } from "../fakes/models.ts";
import { reply } from "../fakes/server.ts";
import { pollUntil } from "../harness/poll.ts";
import { createRun, runToEnd } from "../harness/runs.ts";
import { type Stack, startStack, TENANTS } from "../harness/stack.ts";
import { launchChromium, type PageProblems, pngBytes, screenshot, watchedPage } from "./browser.ts";

// The dashboard's Metrics page and the run page's trace id, in a real Chromium
// against the real stack (workerd, an agent, Docker, the fake model servers).
let stack: Stack;
let models: FakeModels;
let browser: Browser;
let context: BrowserContext | undefined;
let problems: PageProblems | undefined;
let runId = "";
let traceId = "";
let stats: TenantStats;

beforeAll(async () => {
  models = await FakeModels.start("browser-metrics");
  stack = await startStack("browser-metrics", 1, 2, models.vars);
  browser = await launchChromium();
  for (const code of ["print(1)", "print(2)", "raise SystemExit(1)"])
    await stack.api.execute({ language: "python", code });
  models.anthropic.enqueue(
    reply.toolUse("run_code", { language: "python", code: "print('ok')" }, { usage: { input: 30, output: 9 } }),
    reply.toolUse(
      "finish",
      { summary: "ok", code: "print('ok')", verdict: "success" },
      { usage: { input: 30, output: 9 } },
    ),
  );
  runId = await createRun(stack.api, { task: "Print ok.", planner: null });
  const { view } = await runToEnd(stack.api, runId);
  traceId = view.traceId ?? "";
  stats = await pollUntil(
    async () => {
      const s = (await (await stack.api.get("/v1/stats?window=1h")).json()) as TenantStats;
      return s.executions.total === 4 && s.runs.total === 1 ? s : undefined;
    },
    { timeoutMs: 20_000, what: "the stats to count the executions and the run" },
  );
});
afterEach(async () => {
  const seen = problems?.errors ?? [];
  await context?.close();
  context = undefined;
  problems = undefined;
  expect(seen, "uncaught errors or CSP violations in the page").toEqual([]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await models?.close();
});

async function open(viewport: { width: number; height: number }, hash: string): Promise<Page> {
  context = await browser.newContext({ viewport });
  const watched = await watchedPage(context);
  problems = watched.problems;
  const page = watched.page;
  await page.goto(`${stack.worker.url}/`);
  await page.getByLabel("API key").fill(TENANTS.a.key);
  await page.getByRole("button", { name: "Open dashboard" }).click();
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  return page;
}

describe("the Metrics page", () => {
  it("shows the tenant's numbers from /v1/stats as charts, with no page error and no CSP violation", async () => {
    const page = await open({ width: 1280, height: 900 }, "#/metrics/1h");
    await page.locator('[data-testid="metrics"][data-loaded="true"]').waitFor();
    expect(await page.getByTestId("executions-total").textContent()).toBe("4");
    expect(await page.getByTestId("runs-total").textContent()).toBe("1");
    // 1 of 4 did not succeed.
    expect(await page.getByTestId("error-rate").textContent()).toBe("25.0%");
    expect(await page.getByTestId("execution-latency").textContent()).toMatch(/^\d+ ms \/ [\d.]+ m?s \/ [\d.]+ m?s$/);
    // Every chart is drawn: stacked bars for the executions, lines for latencies and the error rate.
    expect(await page.locator("svg.chart").count()).toBe(4);
    const bars = await page.locator('svg[aria-label="executions by status"] rect').count();
    expect(bars).toBeGreaterThanOrEqual(2); // succeeded and failed, in one minute or more
    expect(await page.locator('svg[aria-label="execution latency"] path.line').count()).toBe(3);
    const coder = page.locator('[aria-label="tokens by role"] [data-name="coder"] .bar-value');
    expect(await coder.textContent()).toBe(
      `in ${stats.tokens.byRole.coder?.input} · out ${stats.tokens.byRole.coder?.output}`,
    );
    expect(await page.locator('[aria-label="tokens by model"] [data-name="claude-sonnet-4-6"]').count()).toBe(1);
    expect(await page.locator('[aria-label="runs by outcome"] [data-name="succeeded"] .bar-value').textContent()).toBe(
      "runs 1",
    );
    expect(await page.locator('[aria-label="agents"] [data-name="browser-metrics-1"] .bar-value').textContent()).toBe(
      "ok 4 · errors 0",
    );
    expect(await pngBytes(await screenshot(page, "metrics-page"))).toBeGreaterThan(10_000);

    await page.getByRole("link", { name: "24h" }).click();
    await page.waitForURL(/#\/metrics\/24h$/);
    await page.locator('[data-testid="metrics"][data-loaded="true"]').waitFor();
    expect(await page.getByTestId("executions-total").textContent()).toBe("4");
  });

  it("fits a 390 px phone without sideways scrolling", async () => {
    const page = await open({ width: 390, height: 844 }, "#/metrics/15m");
    await page.locator('[data-testid="metrics"][data-loaded="true"]').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await pngBytes(await screenshot(page, "metrics-page-phone"))).toBeGreaterThan(10_000);
  });
});

describe("the run page", () => {
  it("shows the run's trace id", async () => {
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const page = await open({ width: 1280, height: 900 }, `#/runs/${runId}`);
    expect(await page.getByTestId("trace-id").textContent()).toBe(traceId);
  });
});
