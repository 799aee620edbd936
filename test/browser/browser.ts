import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's Chromium; `npx playwright install` cannot download browsers here. */
export const CHROMIUM_PATH = process.env.EDGESWARM_CHROMIUM ?? "/usr/bin/chromium";

/** Where suites save screenshots (gitignored; made at run time). */
export const ARTIFACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "artifacts");

/**
 * A headless Chromium that talks to nothing but the pages it is sent to: no
 * background fetches, no updates, no sync, no QUIC.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** What went wrong inside a page: uncaught exceptions and CSP violations. */
export interface PageProblems {
  errors: string[];
}

/** A new page in `context` that records its uncaught errors and CSP reports. */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; problems: PageProblems }> {
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const problems: PageProblems = { errors: [] };
  page.on("pageerror", (err) => problems.errors.push(`uncaught: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) problems.errors.push(msg.text());
  });
  return { page, problems };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Saves a full-page screenshot under ARTIFACTS_DIR and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Whether the file at `path` is a non-empty PNG (its size, or 0 when it is not). */
export async function pngBytes(path: string): Promise<number> {
  const bytes = await readFile(path);
  return bytes.length > PNG_SIGNATURE.length && bytes.subarray(0, 8).equals(PNG_SIGNATURE) ? bytes.length : 0;
}
