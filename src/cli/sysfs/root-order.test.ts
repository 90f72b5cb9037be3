/**
 * Root-bus order: the kernel scans root buses in ACPI namespace order and
 * numbers groups in that order. The fixture is a real capture (Debian 6.12
 * under QEMU) of two pxb-pcie host bridges; QEMU lists them by bus number,
 * so the permuted tree below is what a machine whose namespace lists bus
 * 0x80 before 0x40 would show.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { FileTree } from "../../core/fs/file-tree.js";
import { predict } from "../../core/iommu/predict.js";
import { acpiRootOrder, snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { readSource } from "./archive.js";

const FIXTURE = path.resolve("src", "cli", "fixtures", "kernel-oracle", "pxb-order.linux-6.12.sysfs.tar.gz");
const bridge = (n: number) => `../LNXSYSTM:00/LNXSYBUS:00/PNP0A08:0${n}`;

function withLinks(tree: FileTree, links: Record<string, string | undefined>): FileTree {
  const t = new Map(tree);
  for (const [bus, target] of Object.entries(links)) {
    if (target === undefined) t.delete(`sys/devices/${bus}/firmware_node`);
    else t.set(`sys/devices/${bus}/firmware_node`, { kind: "symlink", target });
  }
  return t;
}

const groupOf = (tree: FileTree, bdf: string) => predict(snapshotFromSysfs(tree)).groups.groupOf.get(bdf);

describe("root buses in ACPI namespace order", () => {
  it("reads each root bus's host bridge from the capture", async () => {
    const s = snapshotFromSysfs(await readSource(FIXTURE));
    expect([...(s.rootBuses ?? [])].map(([k, a]) => [k, a.node, a.uid, a.path])).toEqual([
      ["0000:00", "PNP0A08:00", "0", "\\_SB_.PCI0"],
      ["0000:40", "PNP0A08:01", "64", "\\_SB_.PC40"],
      ["0000:80", "PNP0A08:02", "128", "\\_SB_.PC80"],
    ]);
    expect(s.topology.roots).toEqual(["0000:00", "0000:40", "0000:80"]);
    const p = predict(s);
    expect(p.warnings.filter((w) => w.includes("root buses"))).toEqual([]);
    // the kernel's numbers: bus 0x40's port and endpoint before bus 0x80's
    expect(s.kernelGroups?.get(6)).toEqual(["0000:40:00.0"]);
    expect(p.groups.groupOf.get("0000:40:00.0")).toBe(6);
    expect(p.groups.groupOf.get("0000:80:00.0")).toBe(8);
  });

  it("numbers groups in namespace order when it differs from bus numbers", async () => {
    const tree = withLinks(await readSource(FIXTURE), { "pci0000:40": bridge(2), "pci0000:80": bridge(1) });
    expect(snapshotFromSysfs(tree).topology.roots).toEqual(["0000:00", "0000:80", "0000:40"]);
    expect(groupOf(tree, "0000:80:00.0")).toBe(6);
    expect(groupOf(tree, "0000:81:00.0")).toBe(7);
    expect(groupOf(tree, "0000:40:00.0")).toBe(8);
  });

  it("says that numbers assume bus-number order when the source lacks the host bridges", async () => {
    const tree = withLinks(await readSource(FIXTURE), { "pci0000:00": undefined, "pci0000:40": undefined, "pci0000:80": undefined });
    const p = predict(snapshotFromSysfs(tree));
    expect(p.warnings.some((w) => w.startsWith("3 root buses, and the source does not show their ACPI host bridges"))).toBe(true);
    expect(p.groups.groupOf.get("0000:40:00.0")).toBe(6);
  });

  it("orders by instance within one _HID and by bus number between _HIDs, and says so", () => {
    const a = (node: string) => ({ node, hid: node.split(":")[0]!, instance: Number(node.split(":")[1]), uid: undefined, path: undefined });
    expect(acpiRootOrder(new Map([["0000:80", a("PNP0A08:00")], ["0000:00", a("PNP0A08:01")]]))).toEqual(["0000:80", "0000:00"]);
    expect(acpiRootOrder(new Map([["0000:80", a("PNP0A03:00")], ["0000:00", a("PNP0A08:00")]]))).toEqual(["0000:00", "0000:80"]);
  });

  it("mixed _HIDs in a capture: a warning", async () => {
    const tree = new Map(await readSource(FIXTURE));
    tree.set("sys/devices/pci0000:80/firmware_node", { kind: "symlink", target: "../LNXSYSTM:00/LNXSYBUS:00/PNP0A03:00" });
    const p = predict(snapshotFromSysfs(tree));
    expect(p.warnings.some((w) => w.startsWith("root buses with different ACPI _HIDs (PNP0A03, PNP0A08)"))).toBe(true);
  });
});
