/**
 * The web page in a real Chromium (one browser for the whole file): every
 * view against the CLI's own answers on the same input, hostile input,
 * shared links, and screenshots of the main views for a person to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { startServe } from "../../cli/commands/serve.js";
import { recorder } from "../../cli/testing.js";
import { HAVE_CHROMIUM, PAGE_URL, REPO, SKIP_REASON, graphReady, launch, openPage, shownGroups } from "./browser.js";
import type { Session, WatchedPage } from "./browser.js";

const CORPUS = path.resolve(REPO, "..", "shared", "corpus", "lspci-vvnn");
const SHOTS = path.join(REPO, "test-output", "screenshots");
const EXAMPLE = (p: string) => path.join(REPO, "examples", p);

interface GroupsJsonLike {
  source: { label: string };
  groups: { id: number; members: { bdf: string }[] }[];
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = recorder();
  const code = await main(args, io);
  return { code, out: io.text(), err: io.errors() };
}

const membership = (j: GroupsJsonLike): Record<string, string[]> => Object.fromEntries(j.groups.map((g) => [String(g.id), g.members.map((m) => m.bdf)]));

let session: Session;
const pages: WatchedPage[] = [];

async function fresh(url = PAGE_URL, scheme: "light" | "dark" = "light"): Promise<WatchedPage> {
  const w = await openPage(session, url, undefined, scheme);
  pages.push(w);
  return w;
}

/** no request left the page's own folder (file://) */
function ownOriginOnly(w: WatchedPage): void {
  const foreign = w.requests.filter((u) => !u.startsWith("file://") && !u.startsWith("data:") && !u.startsWith("blob:"));
  expect(foreign).toEqual([]);
}

/** puts the text in the paste box as one paste would (typing 90 kB key by key is not what users do) */
async function paste(w: WatchedPage, text: string): Promise<void> {
  await w.page.$eval("#paste", (el, t) => {
    (el as unknown as { value: string }).value = t;
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }, text);
  await w.page.click("#paste-go");
}

async function shot(w: WatchedPage, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await w.page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

describe.skipIf(!HAVE_CHROMIUM)(`the web page in Chromium (skipped when ${SKIP_REASON})`, () => {
  beforeAll(async () => {
    session = await launch();
  }, 60_000);
  afterAll(async () => {
    await session?.close();
  });

  it("loads every bundled example, with the CLI's groups, and asks nothing from the network", async () => {
    const w = await fresh();
    const buttons = await w.page.$$eval("#gallery button[data-example]", (bs) => bs.map((b) => b.getAttribute("data-example")!));
    expect(buttons.length).toBe(3);
    const files: Record<string, string> = {
      capture: EXAMPLE("captures/pcie-pci-bridge-alias.sysfs.tar.gz"),
      "gpu-behind-switch": EXAMPLE("designs/gpu-behind-switch.yaml"),
      "switchtec-ntb": EXAMPLE("designs/switchtec-ntb.yaml"),
    };
    for (const id of buttons) {
      await w.page.click(`#gallery button[data-example="${id}"]`);
      await graphReady(w.page);
      expect(await w.page.textContent("#input-error"), id).toBe("");
      const expected = JSON.parse((await cli(["groups", "--json", files[id]!])).out) as GroupsJsonLike;
      expect(await shownGroups(w.page), id).toEqual(membership(expected));
      expect(await w.page.$$eval("#graph g.node", (n) => n.length), id).toBeGreaterThan(0);
    }
    expect(w.errors).toEqual([]);
    ownOriginOnly(w);
  });

  const corpus = existsSync(CORPUS) ? readdirSync(CORPUS).filter((f) => f.endsWith(".txt")).sort() : [];
  it.skipIf(corpus.length === 0)(`each real lspci -vvnn dump pasted gives the groups of 'iommu-atlas groups --json' (skipped when ${CORPUS} is absent)`, async () => {
    const w = await fresh();
    for (const name of corpus) {
      const file = path.join(CORPUS, name);
      await paste(w, readFileSync(file, "utf8"));
      await graphReady(w.page);
      expect(await w.page.textContent("#input-error"), name).toBe("");
      const expected = JSON.parse((await cli(["groups", "--json", file])).out) as GroupsJsonLike;
      expect(await shownGroups(w.page), name).toEqual(membership(expected));
      // the exported JSON is the CLI's, but for the source's name
      const [download] = await Promise.all([w.page.waitForEvent("download"), w.page.click("#export-json")]);
      const exported = JSON.parse(readFileSync((await download.path())!, "utf8")) as GroupsJsonLike;
      expect(exported.source.label).toBe("pasted text");
      expect({ ...exported, source: { ...exported.source, label: file } }, name).toEqual(expected);
    }
    expect(w.errors).toEqual([]);
  });

  it("bad input gives the CLI's one-line message next to the input", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "iommu-atlas-web-"));
    const text = "hello\nthis is not lspci\n";
    const file = path.join(dir, "pasted text");
    writeFileSync(file, text);
    const r = await cli(["groups", file]);
    expect(r.code).toBe(2);
    const w = await fresh();
    await paste(w, text);
    await w.page.waitForSelector("#input-error:not(:empty)");
    expect(`iommu-atlas: ${await w.page.textContent("#input-error")}`).toBe(r.err.replace(file, "pasted text"));
  });

  it("clicking a function shows the engine's explanation steps, as 'iommu-atlas explain' gives them", async () => {
    const w = await fresh();
    await w.page.click('#gallery button[data-example="gpu-behind-switch"]');
    await graphReady(w.page);
    await w.page.click('#graph g.node[data-bdf="0000:04:00.0"]');
    const expected = JSON.parse((await cli(["explain", "0000:04:00.0", EXAMPLE("designs/gpu-behind-switch.yaml"), "--json"])).out) as { steps: { text: string; cite: string }[]; aliases: { text: string }[] };
    const steps = await w.page.$$eval("#panel ol.steps li", (lis) => lis.map((li) => li.textContent));
    expect(steps).toEqual(expected.steps.map((s) => `${s.text} [${s.cite}]`));
    expect(await w.page.$$eval("#panel ul.aliases li", (lis) => lis.map((li) => li.textContent))).toEqual(expected.aliases.map((a) => a.text));
    // keyboard: the list moves with arrows and Enter selects
    await w.page.focus('#group-list button.member[data-bdf="0000:00:00.0"]');
    await w.page.keyboard.press("ArrowDown");
    await w.page.keyboard.press("Enter");
    expect(await w.page.textContent("#panel .fn-title")).toContain("0000:00:01.0");
    await shot(w, "function-panel-light");
  });

  it("under 'iommu-atlas serve' the page runs with the strict CSP and shows the preloaded source", async () => {
    const io = recorder();
    const design = EXAMPLE("designs/switchtec-ntb.yaml");
    const running = await startServe({ source: design, port: "0" }, io);
    try {
      const w = await fresh(running.url);
      await graphReady(w.page);
      const expected = JSON.parse((await cli(["groups", "--json", design])).out) as GroupsJsonLike;
      expect(await shownGroups(w.page)).toEqual(membership(expected));
      expect(await w.page.textContent("#source-line")).toContain(design);
      const origin = new URL(running.url).origin;
      expect(w.requests.filter((u) => !u.startsWith(origin))).toEqual([]);
      expect(w.console.filter((l) => /Content Security Policy|Refused/.test(l))).toEqual([]);
      expect(w.errors).toEqual([]);
    } finally {
      await running.close();
    }
  });
});

afterAll(async () => {
  for (const w of pages) await w.context.close().catch(() => undefined);
});
