import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeArchive } from "../../cli/sysfs/archive.js";
import { snapshotFromSysfs } from "../sources/from-sysfs.js";
import type { Snapshot } from "../sources/snapshot.js";
import type { PciFunction } from "../topology/model.js";
import { snapshotFromLspci } from "./index.js";
import type { LspciResult } from "./index.js";
import { projectSnapshot } from "./project.js";

// every form is real lspci 3.9 output for the same machine (fixtures/README.md)
const here = path.dirname(new URL(import.meta.url).pathname);
const form = (name: string): string => readFileSync(path.join(here, "fixtures", "forms", name), "utf8");
const archive = (name: string): Snapshot => {
  const file = path.join(here, "fixtures", "oracle", `${name}.sysfs.tar.gz`);
  return snapshotFromSysfs(decodeArchive(new Uint8Array(readFileSync(file)), file));
};
const binary = archive("nested-switches");

function read(text: string): Extract<LspciResult, { ok: true }> {
  const r = snapshotFromLspci(text);
  if (!r.ok) throw new Error(`line ${r.line}: ${r.reason}`);
  return r;
}

type View = Record<string, unknown>;
const view = (s: Snapshot, opts = {}): { functions: View[] } & View => projectSnapshot(s, { loneFunctionZero: true, ...opts }) as { functions: View[] } & View;
const fn = (s: Snapshot, bdf: string): PciFunction => s.topology.functions.get(bdf)!;
const codes = (r: { warnings: readonly { code: string }[] }): string[] => r.warnings.map((w) => w.code);

/** the binary model with some fields of every function replaced */
function binaryWith(change: (f: View, orig: PciFunction) => View, opts = {}): unknown {
  const v = view(binary, opts);
  return { ...v, functions: v.functions.map((f) => change(f, fn(binary, f.bdf as string))) };
}

describe("lspci forms of one machine (nested-switches)", () => {
  it("-vv without -nn: everything but the ids, which stay unknown (ffff) with a warning", () => {
    const r = read(form("nested-switches.lspci-vv.txt"));
    expect(r.format).toBe("verbose");
    expect(view(r.snapshot)).toEqual(binaryWith((f) => ({ ...f, vendor: 0xffff, device: 0xffff })));
    expect(codes(r)).toContain("ids-unknown");
  });

  it("-v: ACS registers are not printed, so a port showing an ACS capability has ACS unknown", () => {
    const r = read(form("nested-switches.lspci-v.txt"));
    expect(view(r.snapshot)).toEqual(binaryWith((f, o) => ({ ...f, vendor: 0xffff, device: 0xffff, acs: o.acs.state === "present" ? { state: "unknown" } : f.acs })));
    expect(fn(r.snapshot, "0000:00:02.0").acs.state).toBe("unknown");
    expect(fn(r.snapshot, "0000:02:00.0").acs.state).toBe("absent");
    expect(codes(r)).toContain("registers-not-shown");
  });

  it("-PP -vnn: paths with bus numbers read like -v", () => {
    const r = read(form("nested-switches.lspci-PP-vnn.txt"));
    expect(view(r.snapshot)).toEqual(binaryWith((f, o) => ({ ...f, acs: o.acs.state === "present" ? { state: "unknown" } : f.acs })));
  });

  it("-P -vnn: a path element's bus is its parent's secondary bus from the Bus: line", () => {
    const r = read(form("nested-switches.lspci-P-vnn.txt"));
    expect(view(r.snapshot)).toEqual(binaryWith((f, o) => ({ ...f, acs: o.acs.state === "present" ? { state: "unknown" } : f.acs })));
    expect(codes(r)).not.toContain("bus-guessed");
  });

  it("-P -nn: bus numbers of path elements come from the parent bridge; none shown, so free numbers are assigned in order", () => {
    const r = read(form("nested-switches.lspci-P-nn.txt"));
    const t = r.snapshot.topology;
    expect([...t.functions.keys()].sort()).toEqual([...binary.topology.functions.keys()].sort());
    expect(t.scanOrder).toEqual(binary.topology.scanOrder);
    expect(fn(r.snapshot, "0000:09:01.0").upstream).toBe("0000:08:00.0");
    expect(fn(r.snapshot, "0000:01:00.0")).toMatchObject({ secondary: 2, subordinate: 9 });
    expect(codes(r)).toContain("bus-guessed");
  });

  it("-nnk: no capabilities and no bus numbers: types and ACS unknown, bridges cannot be linked", () => {
    const r = read(form("nested-switches.lspci-nnk.txt"));
    const t = r.snapshot.topology;
    expect([...t.functions.keys()]).toEqual([...binary.topology.functions.keys()]);
    for (const f of t.functions.values()) {
      const o = fn(binary, f.bdf);
      expect({ vendor: f.vendor, device: f.device, headerType: f.headerType, isPcie: f.isPcie, acs: f.acs.state }).toEqual({
        vendor: o.vendor,
        device: o.device,
        headerType: o.headerType,
        isPcie: false,
        acs: "unknown",
      });
    }
    expect(codes(r)).toEqual(expect.arrayContaining(["capabilities-not-shown", "bridge-buses-unknown"]));
    expect(t.roots.length).toBeGreaterThan(1);
  });

  it("-nnk plus a -tvnn tree in one file: the tree gives the bridges their buses", () => {
    const r = read(`${form("nested-switches.lspci-nnk.txt")}\n${form("nested-switches.lspci-tvnn.txt")}`);
    expect(r.format).toBe("mixed");
    expect(r.dumps).toBe(2);
    const t = r.snapshot.topology;
    expect(t.roots).toEqual(binary.topology.roots);
    expect(t.scanOrder).toEqual(binary.topology.scanOrder);
    for (const f of t.functions.values()) {
      const o = fn(binary, f.bdf);
      expect([f.bdf, f.secondary, f.subordinate, f.upstream]).toEqual([o.bdf, o.secondary, o.subordinate, o.upstream]);
    }
    expect(codes(r)).not.toContain("bridge-buses-unknown");
  });

  it("-t and -tvnn alone: parent/child links and bus ranges, ids with -nn", () => {
    for (const name of ["nested-switches.lspci-t.txt", "nested-switches.lspci-tvnn.txt"]) {
      const r = read(form(name));
      expect(r.format).toBe("tree");
      const t = r.snapshot.topology;
      expect([...t.functions.keys()]).toEqual([...binary.topology.functions.keys()]);
      expect(t.scanOrder).toEqual(binary.topology.scanOrder);
      for (const f of t.functions.values()) {
        const o = fn(binary, f.bdf);
        expect([f.secondary, f.subordinate, f.upstream]).toEqual([o.secondary, o.subordinate, o.upstream]);
        expect(f.acs.state).toBe("unknown");
        // names and ids are printed for the last device of each tree line only
        const leaf = o.secondary === undefined;
        if (name.includes("nn") && leaf) expect([f.vendor, f.device]).toEqual([o.vendor, o.device]);
        if (!leaf) expect(f.vendor).toBe(0xffff);
      }
    }
  });

  it("-tv with several root buses (pxb expander)", () => {
    const pxb = archive("pxb-pcie");
    const r = read(form("pxb-pcie.lspci-tv.txt"));
    expect(r.snapshot.topology.roots).toEqual(pxb.topology.roots);
    expect(r.snapshot.topology.scanOrder).toEqual(pxb.topology.scanOrder);
    expect(fn(r.snapshot, "0000:42:00.0").upstream).toBe("0000:40:00.1");
  });

  it("-nnmm and -nnvmm machine forms: ids, class, groups (-vmm)", () => {
    for (const name of ["nested-switches.lspci-nnmm.txt", "nested-switches.lspci-nnvmm.txt"]) {
      const r = read(form(name));
      for (const f of r.snapshot.topology.functions.values()) {
        const o = fn(binary, f.bdf);
        expect([f.vendor, f.device, f.classCode >> 8, f.revision ?? 0]).toEqual([o.vendor, o.device, o.classCode >> 8, o.revision ?? 0]);
        if (name.includes("vmm")) expect(f.kernelGroup).toBe(o.kernelGroup);
      }
    }
  });

  it("-x (64 bytes): header facts from the bytes, capabilities unknown", () => {
    const r = read(form("nested-switches.lspci-x.txt"));
    expect(r.format).toBe("hex");
    expect(view(r.snapshot)).toEqual(binaryWith((f) => ({ ...f, isPcie: false, pcieType: 0, bridgeKind: f.bridgeKind === null ? null : "pci-bridge", acs: { state: "unknown" } }), { loneFunctionZero: false }));
    expect(fn(r.snapshot, "0000:00:02.0").config?.issues).toContainEqual({ code: "config-short", known: 64 });
  });

  it("-nnxxx (256 bytes): PCIe types known, extended space (ACS) unknown", () => {
    const r = read(form("nested-switches.lspci-nnxxx.txt"));
    expect(view(r.snapshot, { loneFunctionZero: false })).toEqual(
      binaryWith((f, o) => ({ ...f, acs: o.isPcie ? { state: "unknown" } : f.acs }), { loneFunctionZero: false }),
    );
  });

  it("non-root -vvnn: `<access denied>` leaves ACS unknown, never absent", () => {
    const r = read(form("nested-switches-nonroot.lspci-vvnn.txt"));
    const rp = fn(r.snapshot, "0000:00:02.0");
    expect(rp.acs.state).toBe("unknown");
    expect(rp.config).toMatchObject({ capabilitiesKnown: false, extendedKnown: false });
    expect(rp.issues).toContainEqual({ code: "config-short", known: 64 });
    expect(fn(r.snapshot, "0000:00:00.0").acs.state).toBe("absent"); // Status: Cap-: no capabilities at all
    expect(r.snapshot.notes).toContainEqual({ code: "config-unprivileged", functions: expect.any(Number) });
    expect(codes(r)).toContain("capabilities-denied");
    expect(r.snapshot.kernelGroups).toEqual(binary.kernelGroups);
    for (const f of r.snapshot.topology.functions.values()) expect([f.secondary, f.upstream]).toEqual([fn(binary, f.bdf).secondary, fn(binary, f.bdf).upstream]);
  });
});
