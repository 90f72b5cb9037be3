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

// the CLI prefers the system's pci.ids; the page carries the shipped copy: compare like with like
process.env["IOMMU_ATLAS_PCI_IDS"] = "bundled";

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

describe.skipIf(!HAVE_CHROMIUM)(`the web page in Chromium (skipped when ${SKIP_REASON})`, { timeout: 180_000 }, () => {
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

  it("every lspci form the CLI reads (-t, -x…-xxxx, -P, -k, -mm, no root) gives the CLI's groups when pasted", async () => {
    const dir = path.join(REPO, "src/core/lspci/fixtures/forms");
    const w = await fresh();
    for (const name of readdirSync(dir).filter((f) => f.endsWith(".txt")).sort()) {
      const file = path.join(dir, name);
      const r = await cli(["groups", "--json", file]);
      await paste(w, readFileSync(file, "utf8"));
      if (r.code !== 0) {
        await w.page.waitForSelector("#input-error:not(:empty)");
        expect(`iommu-atlas: ${await w.page.textContent("#input-error")}`, name).toBe(r.err.replace(file, "pasted text"));
        continue;
      }
      await graphReady(w.page);
      expect(await w.page.textContent("#input-error"), name).toBe("");
      expect(await shownGroups(w.page), name).toEqual(membership(JSON.parse(r.out) as GroupsJsonLike));
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

    // a capture archive through the file picker, then a damaged one: the CLI's groups, then the CLI's message
    const capture = EXAMPLE("captures/pcie-pci-bridge-alias.sysfs.tar.gz");
    await w.page.setInputFiles("#file", capture);
    await graphReady(w.page);
    expect(await shownGroups(w.page)).toEqual(membership(JSON.parse((await cli(["groups", "--json", capture])).out) as GroupsJsonLike));
    const bytes = readFileSync(capture);
    const broken = path.join(dir, "broken.tar.gz");
    writeFileSync(broken, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const rb = await cli(["groups", broken]);
    expect(rb.code).toBe(2);
    await w.page.setInputFiles("#file", broken);
    await w.page.waitForSelector("#input-error:not(:empty)");
    expect(`iommu-atlas: ${await w.page.textContent("#input-error")}`).toBe(rb.err.replace(broken, "broken.tar.gz"));

    // lspci output saved by Windows PowerShell (UTF-16 with its mark): the CLI's groups
    const lspci = readFileSync(path.join(REPO, "src/core/lspci/fixtures/forms/nested-switches.lspci-vv.txt"), "utf8");
    const wide = path.join(dir, "lspci-utf16.txt");
    writeFileSync(wide, Buffer.from(`\ufeff${lspci}`, "utf16le"));
    const rw = await cli(["groups", "--json", wide]);
    expect(rw.code).toBe(0);
    await w.page.setInputFiles("#file", wide);
    await graphReady(w.page);
    expect(await shownGroups(w.page)).toEqual(membership(JSON.parse(rw.out) as GroupsJsonLike));
    // a binary file: the CLI's message, nothing of it echoed
    const png = path.join(dir, "photo.png");
    writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    const rp = await cli(["groups", png]);
    expect(rp.code).toBe(2);
    await w.page.setInputFiles("#file", png);
    await w.page.waitForSelector("#input-error:not(:empty)");
    expect(`iommu-atlas: ${await w.page.textContent("#input-error")}`).toBe(rp.err.trimEnd().replace(png, "photo.png"));
  });

  it("exports the graph as SVG and PNG", async () => {
    const w = await fresh();
    await w.page.click('#gallery button[data-example="capture"]');
    await graphReady(w.page);
    const [svgDl] = await Promise.all([w.page.waitForEvent("download"), w.page.click("#export-svg")]);
    const svg = readFileSync((await svgDl.path())!, "utf8");
    expect(svgDl.suggestedFilename()).toBe("topology.svg");
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("<style>");
    for (const id of ["G4", "02:01.0", "alias-edge"]) expect(svg).toContain(id);
    const [pngDl] = await Promise.all([w.page.waitForEvent("download"), w.page.click("#export-png")]);
    const png = readFileSync((await pngDl.path())!);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBeGreaterThan(400); // width from the IHDR chunk
    ownOriginOnly(w);
  });

  it("clicking a function shows the engine's explanation steps, as 'iommu-atlas explain' gives them", async () => {
    const w = await fresh();
    await w.page.click('#gallery button[data-example="gpu-behind-switch"]');
    await graphReady(w.page);
    await w.page.click('#graph g.node[data-bdf="0000:04:00.0"]');
    const expected = JSON.parse((await cli(["explain", "0000:04:00.0", EXAMPLE("designs/gpu-behind-switch.yaml"), "--json"])).out) as { steps: { text: string; cite: string }[]; aliases: { text: string }[] };
    const steps = await w.page.$$eval("#panel ol.steps li", (lis) => lis.map((li) => li.textContent));
    expect(steps).toEqual(expected.steps.map((s) => `${s.text} see ${s.cite}`));
    expect(await w.page.$$eval("#panel ul.aliases li", (lis) => lis.map((li) => li.textContent))).toEqual(expected.aliases.map((a) => a.text));
    // keyboard: the list moves with arrows and Enter selects
    await w.page.focus('#group-list button.member[data-bdf="0000:00:00.0"]');
    await w.page.keyboard.press("ArrowDown");
    await w.page.keyboard.press("Enter");
    expect(await w.page.textContent("#panel .fn-title")).toContain("0000:00:01.0");
    // and in the graph: arrows move between boxes, Enter explains
    await w.page.focus('#graph g.node[data-bdf="0000:00:00.0"]');
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

  it("a what-if toggle changes the list and the graph as 'iommu-atlas whatif' says", async () => {
    const design = EXAMPLE("designs/gpu-behind-switch.yaml");
    const w = await fresh();
    await w.page.click('#gallery button[data-example="gpu-behind-switch"]');
    await graphReady(w.page);
    await w.page.selectOption("#wi-override", "downstream");
    await graphReady(w.page);
    const json = JSON.parse((await cli(["whatif", "--cmdline", "pcie_acs_override=downstream", "--json", design])).out) as { after: GroupsJsonLike; changes: { kind: string; before: string[] | string[][]; after: string[] | string[][] }[] };
    expect(json.changes.length).toBeGreaterThan(0);
    expect(await shownGroups(w.page)).toEqual(membership(json.after));
    const text = (await cli(["whatif", "--cmdline", "pcie_acs_override=downstream", design])).out.split("\n");
    const shown = [await w.page.textContent("#whatif-result .wi-summary"), ...(await w.page.$$eval("#whatif-result ul.changes li", (lis) => lis.map((li) => li.textContent)))];
    expect(shown).toEqual(text);
    const changed = new Set(json.changes.flatMap((c) => (c.kind === "split" ? (c.before as string[]) : (c.after as string[]))));
    expect(new Set(await w.page.$$eval("#graph g.node.changed", (gs) => gs.map((g) => g.getAttribute("data-bdf"))))).toEqual(changed);
    await shot(w, "whatif-light");

    // per-port ACS bits, as --acs BDF=+SV+RR+CR+UF
    await w.page.click("#wi-reset");
    await graphReady(w.page);
    await w.page.click('#graph g.node[data-bdf="0000:02:10.0"]');
    for (const flag of ["SV", "RR", "CR", "UF"]) {
      await w.page.selectOption(`#panel select[data-acs="${flag}"]`, "on");
      await graphReady(w.page);
    }
    const acs = JSON.parse((await cli(["whatif", "--acs", "0000:02:10.0=+SV+RR+CR+UF", "--json", design])).out) as { after: GroupsJsonLike; change: { acs: string[] } };
    expect(await w.page.textContent("#whatif-result")).toContain(`--acs ${acs.change.acs[0]}`);
    expect(await shownGroups(w.page)).toEqual(membership(acs.after));
  });

  it("a plan made by clicking gets the verdict, findings and actions of 'iommu-atlas check'", async () => {
    const design = EXAMPLE("designs/gpu-behind-switch.yaml");
    const w = await fresh();
    await w.page.click('#gallery button[data-example="gpu-behind-switch"]');
    await graphReady(w.page);
    for (const bdf of ["0000:03:00.0", "0000:03:00.1"]) {
      await w.page.click(`#graph g.node[data-bdf="${bdf}"]`);
      await w.page.click("#assign");
    }
    const plan = await w.page.inputValue("#plan-text");
    expect(plan).toContain("0000:03:00.1");
    const dir = mkdtempSync(path.join(tmpdir(), "iommu-atlas-web-"));
    const file = path.join(dir, "plan.yaml");
    writeFileSync(file, plan);
    const json = JSON.parse((await cli(["check", file, design, "--json"])).out) as { verdict: string; findings: { text: string }[]; actions: { driverctl: string[] } | null };
    expect(await w.page.getAttribute("#verdict", "data-verdict")).toBe(json.verdict);
    const findings = await w.page.$$eval("#plan-result .finding > p:first-child", (ps) => ps.map((p) => p.textContent));
    expect(findings.map((f) => f!.replace(/^[a-z]+: /, ""))).toEqual(json.findings.map((f) => f.text));
    if (json.actions) expect(await w.page.textContent("#plan-result")).toContain(json.actions.driverctl[0]);
    await shot(w, "plan-light");

    // a pasted plan with a guest's alias request: refused, with check's reasons
    const withRequest = `${plan}alias_requests:\n  - guest: vm1\n    device: 0000:03:00.0\n    requester_ids: ["04:00.0"]\n    reason: <b>the driver</b> says so\n`;
    writeFileSync(file, withRequest);
    const refused = (await cli(["check", file, design])).out.split("\n");
    const start = refused.findIndex((l) => l.startsWith("refused: "));
    expect(start).toBeGreaterThan(0);
    const block = refused.slice(start, refused.indexOf("", start)).map((l) => l.trim());
    await w.page.fill("#plan-text", withRequest);
    await w.page.click("#plan-check");
    const shown = await w.page.$$eval("#plan-result .finding-refused p", (ps) => ps.map((p) => p.textContent!.trim()));
    expect(shown).toEqual(block);
  });

  it("a shared link reopens the same machine, what-if, selection and plan", async () => {
    const w = await fresh();
    await w.page.click('#gallery button[data-example="gpu-behind-switch"]');
    await graphReady(w.page);
    await w.page.selectOption("#wi-override", "downstream");
    await graphReady(w.page);
    await w.page.click('#graph g.node[data-bdf="0000:04:00.0"]');
    await w.page.click("#assign");
    await w.page.fill("#search", "nvme");
    await w.page.click("#share"); // writes the state into the fragment at once
    const url = await w.page.evaluate(() => (globalThis as unknown as { location: { href: string } }).location.href);
    expect(url).toMatch(/#s=[A-Za-z0-9_-]+$/);
    const before = {
      groups: await shownGroups(w.page),
      panel: await w.page.textContent("#panel"),
      whatif: await w.page.textContent("#whatif-result"),
      plan: await w.page.textContent("#plan-result"),
    };
    const again = await fresh(url);
    await graphReady(again.page);
    expect(await again.page.inputValue("#wi-override")).toBe("downstream");
    expect(await again.page.inputValue("#search")).toBe("nvme");
    expect({
      groups: await shownGroups(again.page),
      panel: await again.page.textContent("#panel"),
      whatif: await again.page.textContent("#whatif-result"),
      plan: await again.page.textContent("#plan-result"),
    }).toEqual(before);
    ownOriginOnly(again);
  });

  it("hostile input renders as text: no dialog, no script, no request outside the page", async () => {
    const evil = `<img src=x onerror="globalThis.__pwned=1;alert(1)"></script><script>globalThis.__pwned=2</script> <a href="javascript:alert(3)">x</a> [y](javascript:alert(4))`;
    const w = await fresh();
    // not lspci, not a design: the error line quotes it
    await paste(w, `${evil}\n`);
    await w.page.waitForSelector("#input-error:not(:empty)");
    expect(await w.page.textContent("#input-error")).toContain(evil.slice(0, 59));
    // lspci with hostile names and driver; a design with a hostile value
    const lspci = readFileSync(path.join(REPO, "src/core/lspci/fixtures/forms/nested-switches.lspci-vv.txt"), "utf8")
      .replace(/^(\S+ [^:]+: )(.*)$/m, `$1${evil}`)
      .replace(/Kernel driver in use: \S+/, `Kernel driver in use: ${evil}`);
    await paste(w, lspci);
    await graphReady(w.page);
    expect(await w.page.textContent("#input-error")).toBe("");
    await paste(w, `devices:\n  - { bdf: "00:00.0", type: host-bridge }\n  - { bdf: '${evil.replace(/'/g, "''")}', type: endpoint }\n`);
    await w.page.waitForSelector("#input-error:not(:empty)");
    expect(await w.page.textContent("#input-error")).toMatch(/^pasted text:3: /);
    // a hostile file name and a hostile search
    await w.page.setInputFiles("#file", { name: `${evil}.txt`, mimeType: "text/plain", buffer: Buffer.from(lspci) });
    await w.page.waitForFunction((e) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector("#source-line")?.textContent.includes(e), evil);
    await w.page.fill("#search", evil);
    expect(await w.page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await w.page.$$eval("img, iframe, object, embed", (els) => els.length)).toBe(0);
    expect(await w.page.$$eval("script", (els) => els.length)).toBe(1);
    expect(await w.page.$$eval('a[href^="javascript:"]', (els) => els.length)).toBe(0);
    expect(w.dialogs).toEqual([]);
    expect(w.errors).toEqual([]);
    ownOriginOnly(w);
  });

  it("saves screenshots of the main views in light and dark", async () => {
    for (const scheme of ["light", "dark"] as const) {
      const w = await fresh(PAGE_URL, scheme);
      await w.page.click('#gallery button[data-example="switchtec-ntb"]');
      await graphReady(w.page);
      await w.page.click('#graph g.node[data-bdf="0000:03:00.1"]');
      await shot(w, `overview-${scheme}`);
      await w.page.click('#gallery button[data-example="capture"]');
      await graphReady(w.page);
      await w.page.click('#graph g.node[data-bdf="0000:02:01.0"]');
      await shot(w, `capture-${scheme}`);
      await w.page.click('#gallery button[data-example="gpu-behind-switch"]');
      await graphReady(w.page);
      await w.page.selectOption("#wi-override", "downstream");
      await graphReady(w.page);
      await shot(w, `whatif-${scheme}`);
      expect(await w.page.getAttribute("html", "data-theme")).toBe(scheme);
    }
  });
});

afterAll(async () => {
  for (const w of pages) await w.context.close().catch(() => undefined);
});
