import { describe, expect, it } from "vitest";
import { buildConfig } from "../design/synth-config.js";
import type { FileTree, FileTreeEntry } from "../fs/file-tree.js";
import { snapshotFromSysfs } from "./from-sysfs.js";

const text = (s: string): FileTreeEntry => ({ kind: "file", data: new Uint8Array([...s].map((c) => c.charCodeAt(0))) });

/** a sysfs tree with a VMD endpoint at 00:0e.0 and an NVMe drive in its domain 10000 */
function vmdTree(): FileTree {
  const tree = new Map<string, FileTreeEntry>();
  const fn = (dir: string, bdf: string, config: Uint8Array, group: number): void => {
    tree.set(`sys/bus/pci/devices/${bdf}`, { kind: "symlink", target: `../../../${dir}` });
    tree.set(`${dir}/config`, { kind: "file", data: config });
    tree.set(`${dir}/iommu_group`, { kind: "symlink", target: `../../../kernel/iommu_groups/${group}` });
    tree.set(`sys/kernel/iommu_groups/${group}/devices/${bdf}`, { kind: "symlink", target: `../../../../${dir}` });
  };
  const vmd = "devices/pci0000:00/0000:00:0e.0";
  fn(`sys/${vmd}`, "0000:00:0e.0", buildConfig({ pcieType: 9, vendor: 0x8086, device: 0x9a0b }), 0);
  fn(`sys/${vmd}/pci10000:00/10000:00:02.0`, "10000:00:02.0", buildConfig({ headerType: 1, pcieType: 4, bus: { primary: 0, secondary: 1, subordinate: 1 } }), 0);
  fn(`sys/${vmd}/pci10000:00/10000:00:02.0/10000:01:00.0`, "10000:01:00.0", buildConfig({ pcieType: 0, classCode: 0x010802 }), 0);
  tree.set("proc/sys/kernel/osrelease", text("6.8.0\n"));
  return tree;
}

describe("snapshotFromSysfs", () => {
  it("finds the VMD endpoint a function's DMA really comes from in its sysfs path", () => {
    const t = snapshotFromSysfs(vmdTree()).topology;
    expect(t.functions.get("10000:01:00.0")?.realDmaDev).toBe("0000:00:0e.0");
    expect(t.functions.get("10000:00:02.0")?.realDmaDev).toBe("0000:00:0e.0");
    expect(t.functions.get("0000:00:0e.0")?.realDmaDev).toBeUndefined();
    // the VMD domain's root bus is scanned after the host bridge's hierarchy
    expect(t.scanOrder).toEqual(["0000:00:0e.0", "10000:00:02.0", "10000:01:00.0"]);
  });
});
