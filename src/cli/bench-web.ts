/**
 * `npm run bench:web`: time from input to an interactive graph in the web
 * page, in Debian's Chromium (playwright-core), for synthetic machines of
 * about 100, 1,000 and 10,000 functions (the `npm run bench` machine at
 * three sizes, given to the page as `lspci -xxxx`-style text). Best of
 * several rounds; a measurement, never a test.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { renderLspciHex } from "../core/lspci/render-hex.js";
import type { Snapshot } from "../core/sources/snapshot.js";
import { buildTopology } from "../core/topology/build.js";
import { bigMachine } from "./bench-machine.js";

const CHROMIUM = "/usr/bin/chromium";
const PAGE = fileURLToPath(new URL("../../dist/web/index.html", import.meta.url));
const ROUNDS = 3;

/** the machine as hex dump text; all-zero rows past the first 256 bytes left out, as short dumps do */
function machineText(rootPorts: number, dsps: number): { text: string; functions: number } {
  const topology = buildTopology(bigMachine(rootPorts, dsps));
  const snapshot: Snapshot = { source: "sysfs", topology, kernelGroups: undefined, cmdline: undefined, osrelease: "6.1.0", acpi: {}, notes: [] };
  const text = renderLspciHex(snapshot)
    .split("\n\n")
    .map((block) => {
      const lines = block.split("\n");
      let last = lines.length - 1;
      while (last > 0 && /^[0-9a-f]{3}:( 00){16}$/.test(lines[last]!)) last--;
      return lines.slice(0, last + 1).join("\n");
    })
    .join("\n\n");
  return { text, functions: topology.functions.size };
}

/** clicks Show and waits for the drawn graph plus one painted frame; ms measured inside the page */
const SHOW = `(async () => {
  const graph = document.getElementById("graph");
  const before = graph.dataset.ready;
  const t0 = performance.now();
  document.getElementById("paste-go").click();
  await new Promise((resolve) => {
    const check = () => (graph.dataset.ready !== before && graph.getAttribute("aria-busy") === "false" ? requestAnimationFrame(() => resolve()) : setTimeout(check, 1));
    check();
  });
  return { ms: performance.now() - t0, nodes: graph.querySelectorAll("g.node").length, layoutMs: Number(graph.dataset.layoutMs) };
})()`;

/** opens the first closed switch and waits for the new graph */
const OPEN_SWITCH = `(async () => {
  const graph = document.getElementById("graph");
  const node = graph.querySelector("g.node.switch");
  if (!node) return null;
  const before = graph.dataset.ready;
  const t0 = performance.now();
  node.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
  await new Promise((resolve) => {
    const check = () => (graph.dataset.ready !== before && graph.getAttribute("aria-busy") === "false" ? requestAnimationFrame(() => resolve()) : setTimeout(check, 1));
    check();
  });
  return { ms: performance.now() - t0, nodes: graph.querySelectorAll("g.node").length };
})()`;

export async function runWebBench(log: (line: string) => void = console.log): Promise<number> {
  if (!existsSync(CHROMIUM)) {
    log(`bench:web needs ${CHROMIUM} (apt-get install chromium); nothing measured`);
    return 2;
  }
  if (!existsSync(PAGE)) {
    log(`bench:web needs the built page ${PAGE}; run 'npm run build'`);
    return 2;
  }
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const version = browser.version();
    log(`iommu-atlas bench:web in Chromium ${version}, ${ROUNDS} rounds each, best shown`);
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(pathToFileURL(PAGE).href);
    for (const [rootPorts, dsps] of [[1, 11], [9, 12], [91, 12]] as const) {
      const { text, functions } = machineText(rootPorts, dsps);
      let best = { ms: Infinity, nodes: 0, layoutMs: 0 };
      let open: { ms: number; nodes: number } | null = null;
      for (let r = 0; r < ROUNDS; r++) {
        await page.$eval("#paste", (el, t) => ((el as unknown as { value: string }).value = t), text);
        const m = (await page.evaluate(SHOW)) as { ms: number; nodes: number; layoutMs: number };
        if (m.ms < best.ms) best = m;
        const o = (await page.evaluate(OPEN_SWITCH)) as { ms: number; nodes: number } | null;
        if (o && (!open || o.ms < open.ms)) open = o;
      }
      const mb = (text.length / 1e6).toFixed(1);
      log(
        `${String(functions).padStart(6)} functions (${mb} MB of lspci text): input → interactive graph ${best.ms.toFixed(0)} ms (layout ${best.layoutMs.toFixed(0)} ms, ${best.nodes} boxes drawn)` +
          (open ? `; opening a switch ${open.ms.toFixed(0)} ms (${open.nodes} boxes)` : ""),
      );
    }
  } finally {
    await browser.close();
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runWebBench().then((code) => (process.exitCode = code));
}
