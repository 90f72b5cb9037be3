/**
 * arm64 grouping against the real kernel: captures made by the arm64 kernel
 * oracle (Debian's 6.1 and 6.12 arm64 kernels under qemu-system-aarch64
 * virt,iommu=smmuv3, device tree, modules loaded in the guest), and a real
 * Ampere Altra lspci dump.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { diffGroups } from "../core/iommu/diff.js";
import { predict } from "../core/iommu/predict.js";
import { snapshotFromLspci } from "../core/lspci/index.js";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import type { Snapshot } from "../core/sources/snapshot.js";
import { snapshotFromDesign } from "../core/design/from-design.js";
import { readSource } from "./sysfs/archive.js";
import fc from "fast-check";
import { checkPlan } from "../core/plan/check.js";
import { rmrrLookup } from "../core/plan/rmrr.js";
import { unitsToJson } from "../core/program/units-json.js";
import { parsePlan } from "../core/plan/parse.js";

const here = path.dirname(new URL(import.meta.url).pathname);
const fixtureDir = path.resolve(here, "../core/iommu/fixtures/arm64");
const captures = readdirSync(fixtureDir).filter((f) => f.endsWith(".sysfs.tar.gz")).sort();
const altra = path.resolve(here, "../core/lspci/fixtures/corpus/14-aarch64-ampere-altra-adlink-devplatform.txt");

const load = async (name: string): Promise<Snapshot> => snapshotFromSysfs(await readSource(path.join(fixtureDir, name)));

describe("arm64 captures from Debian's kernels (device tree, and UEFI/ACPI with IORT; SMMUv3)", () => {
  it("covers both kernels, drivers bound and not, SR-IOV VFs and refused StreamIDs", async () => {
    expect(captures.some((c) => c.endsWith("-6.1.sysfs.tar.gz"))).toBe(true);
    expect(captures.some((c) => c.endsWith("-6.12.sysfs.tar.gz"))).toBe(true);
    const all = await Promise.all(captures.map(load));
    const fns = all.flatMap((s) => [...s.topology.functions.values()]);
    expect(fns.some((f) => f.isVirtfn)).toBe(true);
    expect(fns.some((f) => f.classCode >> 8 !== 0x0604 && f.classCode >> 8 !== 0x0600 && f.driver === undefined && !f.isVirtfn)).toBe(true);
    expect(all.some((s) => predict(s).arm64!.refusals.size > 0)).toBe(true);
  });

  for (const name of captures) {
    it(`${name}: membership and numbers as the kernel decided`, async () => {
      const s = await load(name);
      expect(s.platform).toMatchObject({ arch: "aarch64", firmware: name.startsWith("acpi-") ? "acpi" : "devicetree" });
      expect(s.acpi.iort !== undefined).toBe(name.startsWith("acpi-"));
      expect(s.platform?.iommus?.[0]).toMatch(/^smmu3\.0x/);
      const p = predict(s);
      expect(p.layout.kind).toBe("smmuv3");
      expect(p.arm64?.probe.moduleOrderFrom).toBe("proc-modules");
      const d = diffGroups(p.groups, s.kernelGroups!);
      expect(d.differences).toEqual([]);
      // the host bridge never has a group on arm64
      expect(p.groups.groupOf.has("0000:00:00.0")).toBe(false);
    });
  }

  it("the UEFI boot (IORT) enables ACS before the scan: root ports isolate, unlike the device-tree boot of the same machine", async () => {
    const acpi = predict(await load("acpi-t1-6.1.sysfs.tar.gz"));
    expect(acpi.arm64?.firmware).toBe("acpi");
    expect(acpi.layout.units.map((u) => u.name)).toEqual(["smmu3.0x0000000009050000"]);
    // the e1000e behind root port 00:01.0 is alone
    expect(acpi.groups.groups.find((g) => g.members.includes("0000:01:00.0"))!.members).toEqual(["0000:01:00.0"]);
    const dt = predict(await load("acpi-t1-6.1.sysfs.tar.gz"), { firmware: "devicetree", acsMode: "boot" });
    expect(dt.groups.groups.find((g) => g.members.includes("0000:01:00.0"))!.members).toContain("0000:00:01.0");
  });

  it("the x86 rules get these captures wrong (host bridge grouped, numbers shifted)", async () => {
    const s = await load(captures[0]!);
    const d = diffGroups(predict(s, { arch: "x86" }).groups, s.kernelGroups!);
    expect(d.membershipEqual && d.numbersEqual).toBe(false);
  });

  it("--bind: a function without a driver gets a group after those already formed", async () => {
    for (const name of captures) {
      const s = await load(name);
      const p = predict(s);
      const unbound = p.arm64!.probe.unprobed.find((b) => s.topology.functions.get(b)!.classCode >> 8 !== 0x0600);
      if (!unbound) continue;
      const q = predict(s, { binds: new Map([[unbound, "vfio-pci"]]) });
      expect(q.groups.groupOf.has(unbound)).toBe(true);
      const first = q.groups.steps.get(unbound)![0]!;
      expect(first).toMatchObject({ code: "arm-probe", how: "bind", driver: "vfio-pci" });
      return;
    }
    throw new Error("no capture has an unbound endpoint");
  });
});

describe("hostile IORT bytes in a capture", () => {
  it("a mangled IORT never throws: predict, units and the RMR lookup keep going and report table issues", async () => {
    const s = await load("acpi-t1-6.1.sysfs.tar.gz");
    const good = s.acpi.iort!;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: good.length + 8 }), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.nat({ max: good.length }), (flips, cut) => {
        const b = new Uint8Array(good.slice(0, Math.max(cut, 30)));
        for (const [at, v] of flips) if (at < b.length) b[at] = v;
        const snap: Snapshot = { ...s, acpi: { iort: b } };
        const p = predict(snap);
        const u = unitsToJson(snap, "x", p);
        expect(u.iommu).toBe("smmuv3");
        rmrrLookup(p)(s.topology.functions.get("0000:01:00.0")!);
      }),
      { numRuns: 150 },
    );
  });
});

describe("arm64 VM plans", () => {
  it("a guest's function without a driver is checked as bound to vfio-pci: its probe gives it a group", async () => {
    const s = await load("arm64-22-6.1.sysfs.tar.gz");
    const unbound = predict(s).arm64!.probe.unprobed.find((b) => s.topology.functions.get(b)!.classCode >> 8 === 0x0200)!;
    expect(unbound).toBeDefined();
    const parsed = parsePlan(`guests:\n  - name: vm\n    devices: [${unbound}]\n`, "plan.yaml");
    if (!parsed.ok) throw new Error("plan");
    const o = checkPlan(s, parsed.plan);
    if (!o.ok) throw new Error("check");
    expect(o.result.findings.filter((f) => f.code === "no-group")).toEqual([]);
    expect(o.result.prediction.groups.steps.get(unbound)![0]).toMatchObject({ code: "arm-probe", how: "bind", driver: "vfio-pci" });
  });
});

describe("Ampere Altra lspci dump (ACPI, no IORT in the text)", () => {
  const r = snapshotFromLspci(readFileSync(altra, "utf8"));
  if (!r.ok) throw new Error(r.reason);
  const s = r.snapshot;
  const p = predict(s);

  it("is recognised as arm64 from its host bridges, and its membership matches the kernel's IOMMU group lines", () => {
    expect(p.arm64?.archFrom).toBe("vendor");
    const d = diffGroups(p.groups, s.kernelGroups!);
    expect(d.membershipEqual).toBe(true);
    expect(p.arm64?.numbersAssumed).toBe(true);
    expect(p.warnings.join("\n")).toMatch(/module load order.*assumed/);
    expect(p.warnings.join("\n")).toContain("taken as bound: the 8 functions with a 'Kernel driver in use:' line");
  });

  it("the host bridges and the ASPEED VGA (duplicate StreamID through its PCIe-to-PCI bridge) have no group; the bridge itself has one", () => {
    for (const hb of ["0000:00:00.0", "0004:00:00.0", "000c:00:00.0"]) expect(p.layout.ungrouped.get(hb)).toBe("no-driver");
    expect(p.layout.ungrouped.get("0004:02:00.0")).toBe("stream-conflict");
    expect(p.arm64!.refusals.get("0004:02:00.0")).toEqual({ sid: 0x200, unit: "smmu4", heldBy: undefined });
    expect(p.groups.groupOf.has("0004:01:00.0")).toBe(true);
    expect(s.topology.functions.get("0004:01:00.0")!.driver).toBeUndefined();
  });

  it("ports are numbered in scan order within each segment, as the kernel did", () => {
    const ports = p.arm64!.probe.passes[0]!;
    const kernelOrder = [...ports].sort((a, b) => s.topology.functions.get(a)!.kernelGroup! - s.topology.functions.get(b)!.kernelGroup!);
    const bySegment = (list: readonly string[], seg: string) => list.filter((b) => b.startsWith(seg));
    for (const seg of ["0000", "0002", "0004", "0005", "000c", "000d"]) expect(bySegment(ports, seg)).toEqual(bySegment(kernelOrder, seg));
  });

  it("--kernel with same-master duplicate StreamIDs allowed groups the VGA", () => {
    const q = predict(s, { kernel: { major: 6, minor: 12 } });
    expect(q.groups.groupOf.has("0004:02:00.0")).toBe(true);
  });
});

describe("arm64 designs: ACS by boot path", () => {
  const design = (firmware: string) => `arch: arm64
firmware: ${firmware}
devices:
  - { bdf: "00:00.0", type: host-bridge }
  - { bdf: "00:01.0", type: root-port, bus: 1, acs: true }
  - { bdf: "01:00.0", type: upstream-port, bus: [2, 3] }
  - { bdf: "02:00.0", type: downstream-port, bus: 3, acs: true }
  - { bdf: "03:00.0", type: endpoint, driver: nvme }
`;
  const groupsOf = (firmware: string) => {
    const r = snapshotFromDesign(design(firmware));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    return predict(r.snapshot);
  };

  it("device tree: no port enables ACS, the root port's whole subtree is one group", () => {
    const p = groupsOf("devicetree");
    expect(p.groups.groups.map((g) => g.members.length)).toEqual([4]);
    expect(p.warnings.some((w) => w.includes("after the scan"))).toBe(true);
  });

  it("ACPI (IORT): ACS requested before the scan, the endpoint is alone", () => {
    const p = groupsOf("acpi");
    expect(p.groups.groupOf.get("0000:03:00.0")).not.toBe(p.groups.groupOf.get("0000:00:01.0"));
    expect(p.layout.ungrouped.get("0000:00:00.0")).toBe("no-driver");
  });
});
