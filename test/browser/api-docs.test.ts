import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestWorker } from "../harness/test-worker.ts";
import { launchChromium, watchedPage } from "./browser.ts";

// The API reference at /docs in Chromium (issue 15): it renders the served
// document under the dashboard's CSP, with nothing fetched from elsewhere.
let worker: TestWorker;
let browser: Browser;
beforeAll(async () => {
  worker = await TestWorker.start({
    apiKeys: { "docs-key-0000000001": { tenant: "tenant-a", pools: ["pool-a"] } },
    agentTokens: { "docs-agent-token-001": "pool-a" },
  });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

describe("GET /docs in a browser", () => {
  it("renders every operation, the error codes and the schemas, from this origin only", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, problems } = await watchedPage(context);
    const origins = new Set<string>();
    page.on("request", (request) => {
      origins.add(new URL(request.url()).origin);
    });
    await page.goto(`${worker.url}/docs#schema-RunView`);
    await page.locator("#op-createRun").waitFor();
    const doc = (await (await fetch(`${worker.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    for (const methods of Object.values(doc.paths)) {
      for (const op of Object.values(methods)) await page.locator(`#op-${op.operationId}`).waitFor();
    }
    expect(await page.locator("#errors td code").allTextContents()).toContain("quota_exceeded");
    // The hash opened its schema's card, which lists the view's fields.
    expect(await page.locator("#schema-RunView").getAttribute("open")).not.toBeNull();
    expect(await page.locator("#schema-RunView .prop-name").allTextContents()).toContain("iterations");
    await page.locator("#op-runExecution > summary").click();
    expect(await page.locator("#op-runExecution pre").first().textContent()).toContain('"language": "python"');
    expect(problems.errors).toEqual([]);
    expect([...origins]).toEqual([new URL(worker.url).origin]);
    await context.close();
  });
});
