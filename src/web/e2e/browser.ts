/**
 * The real browser for the page's end-to-end tests and benchmark: Debian's
 * chromium driven by playwright-core (no browser download), headless, with
 * a fresh profile and no background networking of its own.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const SKIP_REASON = `${CHROMIUM} is absent (apt-get install chromium)`;

export const REPO = path.resolve(fileURLToPath(new URL("../../..", import.meta.url)));
export const PAGE_DIR = path.join(REPO, "dist", "web");
export const PAGE_URL = pathToFileURL(path.join(PAGE_DIR, "index.html")).href;

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Session {
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function launch(): Promise<Session> {
  if (!existsSync(path.join(PAGE_DIR, "index.html"))) throw new Error(`${PAGE_DIR}/index.html is missing: run 'npm run build' first`);
  const { chromium } = await import("playwright-core");
  // Playwright gives every launch a fresh temporary --user-data-dir of its own and removes it on close
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  return { browser, close: () => browser.close() };
}

/** a page whose every request, dialog and error is recorded */
export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly requests: string[];
  readonly dialogs: string[];
  readonly errors: string[];
  /** console errors and warnings (CSP violations land here) */
  readonly console: string[];
}

export async function openPage(s: Session, url = PAGE_URL, viewport = { width: 1600, height: 1000 }, colorScheme: "light" | "dark" = "light"): Promise<WatchedPage> {
  const context = await s.browser.newContext({ viewport, colorScheme, acceptDownloads: true });
  const page = await context.newPage();
  const requests: string[] = [];
  const dialogs: string[] = [];
  const errors: string[] = [];
  const consoleLines: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") consoleLines.push(m.text());
  });
  page.on("request", (r: Request) => requests.push(r.url()));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  return { page, context, requests, dialogs, errors, console: consoleLines };
}

/** the groups as the list shows them: id → member BDFs */
export async function shownGroups(page: Page): Promise<Record<string, string[]>> {
  return page.$$eval("#group-list li.group[data-group]", (lis) =>
    Object.fromEntries(lis.map((li) => [li.getAttribute("data-group")!, [...li.querySelectorAll("button.member")].map((b) => b.getAttribute("data-bdf")!)])),
  );
}

/** waits until the graph for the current input is drawn */
export async function graphReady(page: Page): Promise<void> {
  await page.waitForSelector('#graph[aria-busy="false"] > svg', { state: "attached" });
}
