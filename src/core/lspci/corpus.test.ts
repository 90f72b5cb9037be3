import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Snapshot } from "../sources/snapshot.js";
import { snapshotFromLspci } from "./index.js";
import type { LspciResult } from "./index.js";

/**
 * Per-file counts for ../shared/corpus/lspci-vvnn. Checked by hand against the
 * text (device lines, `Bus: primary=` lines, ACSCap lines under Root/Downstream
 * Port capabilities, `IOMMU group:` lines, `<access denied>` lines, `Express (v`
 * lines) for 02, 05, 09 and 14; the rest were cross-checked with grep counts.
 * acsUnknown: 05 = its 23 PCIe functions (no extended capability in the dump),
 * 09/10/12 = their `<access denied>` functions.
 */
const COUNTS: Record<string, { functions: number; bridges: number; portsWithAcs: number; acsPresent: number; acsUnknown: number; withGroup: number; roots: number; pcie: number }> = {
  "01-w680-w680d4u-1l.txt": { functions: 21, bridges: 5, portsWithAcs: 5, acsPresent: 5, acsUnknown: 0, withGroup: 21, roots: 1, pcie: 9 },
  "02-z390-supermicro-c9z390-pgw-plx.txt": { functions: 24, bridges: 6, portsWithAcs: 4, acsPresent: 4, acsUnknown: 0, withGroup: 24, roots: 1, pcie: 9 },
  "03-opteron-supermicro-h8dgu-pve.txt": { functions: 39, bridges: 3, portsWithAcs: 2, acsPresent: 2, acsUnknown: 0, withGroup: 0, roots: 1, pcie: 5 },
  "04-atom-c2558-supermicro-a1srm.txt": { functions: 20, bridges: 4, portsWithAcs: 0, acsPresent: 4, acsUnknown: 0, withGroup: 0, roots: 1, pcie: 13 },
  "05-laptop-amd-framework13-usb4.txt": { functions: 40, bridges: 7, portsWithAcs: 0, acsPresent: 0, acsUnknown: 23, withGroup: 38, roots: 1, pcie: 23 },
  "06-xeon-e3-c222-supermicro-x10sll-f-pve.txt": { functions: 14, bridges: 3, portsWithAcs: 0, acsPresent: 0, acsUnknown: 0, withGroup: 0, roots: 1, pcie: 4 },
  "07-xeon-e3-c226-supermicro-x10sae-pci-bridge.txt": { functions: 25, bridges: 6, portsWithAcs: 0, acsPresent: 0, acsUnknown: 0, withGroup: 0, roots: 1, pcie: 10 },
  "08-desktop-intel-b75-kernel3-244e-bridge.txt": { functions: 18, bridges: 5, portsWithAcs: 0, acsPresent: 0, acsUnknown: 0, withGroup: 0, roots: 1, pcie: 9 },
  "09-threadripper-trx40-taichi-nonroot.txt": { functions: 94, bridges: 21, portsWithAcs: 0, acsPresent: 0, acsUnknown: 51, withGroup: 0, roots: 4, pcie: 0 },
  "10-xeon-e5v4-c612-supermicro-x10dri-nonroot.txt": { functions: 94, bridges: 6, portsWithAcs: 0, acsPresent: 0, acsUnknown: 48, withGroup: 0, roots: 2, pcie: 0 },
  "11-laptop-intel-thinkpad13-kabylake.txt": { functions: 15, bridges: 2, portsWithAcs: 2, acsPresent: 2, acsUnknown: 0, withGroup: 0, roots: 1, pcie: 4 },
  "12-xeon-e5v3-c612-supermicro-x10sra-f-asm1182-nonroot.txt": { functions: 90, bridges: 14, portsWithAcs: 0, acsPresent: 0, acsUnknown: 35, withGroup: 0, roots: 2, pcie: 0 },
  "13-ryzen-apu-cezanne-asrock-x300m-stx-pve.txt": { functions: 28, bridges: 4, portsWithAcs: 0, acsPresent: 0, acsUnknown: 0, withGroup: 26, roots: 1, pcie: 13 },
  "14-aarch64-ampere-altra-adlink-devplatform.txt": { functions: 27, bridges: 13, portsWithAcs: 12, acsPresent: 12, acsUnknown: 0, withGroup: 20, roots: 6, pcie: 20 },
  "15-ryzen-zen1-a320-chipset-kernel4.txt": { functions: 35, bridges: 8, portsWithAcs: 2, acsPresent: 2, acsUnknown: 0, withGroup: 0, roots: 1, pcie: 17 },
  "16-laptop-intel-dell-xps13-9360-thunderbolt3.txt": { functions: 24, bridges: 8, portsWithAcs: 4, acsPresent: 4, acsUnknown: 0, withGroup: 0, roots: 1, pcie: 13 },
};

const here = path.dirname(new URL(import.meta.url).pathname);
const fixtureDir = path.join(here, "fixtures", "corpus");
const sharedDir = path.resolve("..", "shared", "corpus", "lspci-vvnn");
const sharedFiles = existsSync(sharedDir) ? readdirSync(sharedDir).filter((f) => f.endsWith(".txt")).sort() : [];

function counts(s: Snapshot): (typeof COUNTS)[string] {
  const fns = [...s.topology.functions.values()];
  return {
    functions: fns.length,
    bridges: fns.filter((f) => f.headerType === 1).length,
    portsWithAcs: fns.filter((f) => (f.bridgeKind === "root-port" || f.bridgeKind === "downstream-port") && f.acs.state === "present").length,
    acsPresent: fns.filter((f) => f.acs.state === "present").length,
    acsUnknown: fns.filter((f) => f.acs.state === "unknown").length,
    withGroup: fns.filter((f) => f.kernelGroup !== undefined).length,
    roots: s.topology.roots.length,
    pcie: fns.filter((f) => f.isPcie).length,
  };
}

function read(file: string): Extract<LspciResult, { ok: true }> {
  const r = snapshotFromLspci(readFileSync(file, "utf8"));
  if (!r.ok) throw new Error(`${file}:${r.line}: ${r.reason}`);
  return r;
}

function checkFile(file: string): Extract<LspciResult, { ok: true }> {
  const r = read(file);
  expect(r.format).toBe("verbose");
  expect(r.dumps).toBe(1);
  expect(counts(r.snapshot)).toEqual(COUNTS[path.basename(file)]);
  // a topology without structural errors
  expect(r.snapshot.topology.issues.filter((i) => i.code !== "not-scanned" && i.code !== "vf-predicted")).toEqual([]);
  expect(r.snapshot.topology.scanOrder.length).toBe(r.snapshot.topology.functions.size);
  return r;
}

describe("corpus copies in fixtures", () => {
  it.each(readdirSync(fixtureDir).filter((f) => f.endsWith(".txt")))("%s", (name) => {
    checkFile(path.join(fixtureDir, name));
  });

  it("05: extended capabilities never shown → ACS unknown; the pcilib line inside a block is skipped", () => {
    const r = read(path.join(fixtureDir, "05-laptop-amd-framework13-usb4.txt"));
    expect(r.warnings).toContainEqual({ code: "extended-not-shown", dump: 0, functions: 23 });
    expect(r.warnings).toContainEqual({ code: "text-skipped", lines: 1, first: 347 });
    expect(r.snapshot.topology.functions.get("0000:00:08.3")?.config?.express?.type).toBe(4);
    expect(r.snapshot.kernelGroups?.get(1)).toEqual(expect.arrayContaining(["0000:00:02.2", "0000:00:02.4"]));
  });

  it("09: non-root Threadripper: four root complexes, chipset switch below 40:01.1, ACS unknown", () => {
    const r = read(path.join(fixtureDir, "09-threadripper-trx40-taichi-nonroot.txt"));
    const t = r.snapshot.topology;
    expect(t.roots).toEqual(["0000:00", "0000:20", "0000:40", "0000:60"]);
    expect(t.functions.get("0000:40:01.1")?.acs.state).toBe("unknown");
    expect(r.snapshot.notes).toContainEqual({ code: "config-unprivileged", functions: 51 });
  });

  it("14: aarch64 domains, every root port with ACS and its own group", () => {
    const r = read(path.join(fixtureDir, "14-aarch64-ampere-altra-adlink-devplatform.txt"));
    const t = r.snapshot.topology;
    expect(t.roots).toEqual(["0000:00", "0002:00", "0004:00", "0005:00", "000c:00", "000d:00"]);
    const ports = [...t.functions.values()].filter((f) => f.bridgeKind === "root-port");
    expect(ports.length).toBe(12);
    for (const p of ports) expect(p.acs.state).toBe("present");
  });

  it("15: old pciutils (#19 names, blank line inside a block) still yields ACS on the GPP ports", () => {
    const r = read(path.join(fixtureDir, "15-ryzen-zen1-a320-chipset-kernel4.txt"));
    const acs = [...r.snapshot.topology.functions.values()].filter((f) => f.acs.state === "present").map((f) => f.bdf);
    expect(acs.length).toBe(2);
    const f = r.snapshot.topology.functions.get(acs[0]!)!;
    expect(f.config?.capabilities.some((c) => c.id === 0x19 && c.kind === "unknown")).toBe(true);
  });
});

describe.skipIf(sharedFiles.length === 0)("every file in ../shared/corpus/lspci-vvnn (skipped when ../shared is absent)", () => {
  it("the pinned list matches the directory", () => {
    expect(sharedFiles).toEqual(Object.keys(COUNTS).sort());
  });

  it.each(sharedFiles)("%s", (name) => {
    checkFile(path.join(sharedDir, name));
  });

  it("02: the PLX downstream ports and PCH root ports keep their ACS registers", () => {
    const t = read(path.join(sharedDir, "02-z390-supermicro-c9z390-pgw-plx.txt")).snapshot.topology;
    expect(t.functions.get("0000:02:08.0")?.acs).toEqual({ state: "present", offset: 0xf24, cap: 0x7f, ctrl: 0x1d });
    expect(t.functions.get("0000:00:1c.0")?.acs).toMatchObject({ state: "present", cap: 0x0f, ctrl: 0x0d });
    expect(t.functions.get("0000:00:01.0")?.acs.state).toBe("absent");
    expect(t.functions.get("0000:06:00.0")?.upstream).toBe("0000:00:1c.4");
    expect(t.buses.get("0000:03")?.self).toBe("0000:02:08.0");
  });
});
