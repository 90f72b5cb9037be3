import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ARM64_INIT, arm64Cmdline, arm64DeviceArgs, arm64QemuArgs, buildArm64Initramfs, generateArm64Topology } from "./arm64.mjs";
import { readCpioNewc } from "./initramfs.mjs";

describe("arm64 oracle (no boot)", () => {
  it("generates the same topology for a seed, within what QEMU's virt machine accepts", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const t = generateArm64Topology(seed);
      expect(generateArm64Topology(seed)).toEqual(t);
      const ids = new Set(t.devices.map((d) => d.id));
      expect(ids.size).toBe(t.devices.length);
      for (const d of t.devices) {
        if (d.bus !== "" && d.bus !== "pcie.0") expect(ids.has(d.bus)).toBe(true);
        // slot 0 below a pcie-pci-bridge is taken by its hot-plug controller
        if (d.driver === "e1000") expect(d.addr).not.toMatch(/^0\./);
      }
      const placed = t.devices.filter((d) => d.addr !== undefined).map((d) => `${d.bus}/${d.addr}`);
      expect(new Set(placed).size).toBe(placed.length);
      if (t.vfs > 0) expect(t.devices.some((d) => d.driver === "nvme" && d.props?.sriov_max_vfs === 2)).toBe(true);
    }
  });

  it("builds the QEMU command line: virt with an SMMUv3, the device tree or UEFI, unique chassis numbers", () => {
    const t = generateArm64Topology(5);
    const args = arm64QemuArgs(t, { kernel: "Image", initrd: "initrd", consoleLog: "c.log" });
    expect(args.slice(0, 2)).toEqual(["-M", "virt,iommu=smmuv3"]);
    expect(args).not.toContain("-bios");
    expect(args[args.indexOf("-append") + 1]).toBe(arm64Cmdline(t));
    expect(arm64Cmdline(t)).toMatch(/^console=ttyAMA0 panic=-1 quiet atlas_load=\S+ atlas_vfs=\d$/);
    const acpi = arm64QemuArgs({ ...t, acpi: true }, { kernel: "Image", initrd: "initrd", consoleLog: "c.log" });
    expect(acpi[acpi.indexOf("-bios") + 1]).toBe("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd");
    expect(arm64Cmdline({ ...t, acpi: true })).toContain(" acpi=force");
    const chassis = arm64DeviceArgs(t).flatMap((a) => /chassis=(\d+)/.exec(a)?.[1] ?? []);
    expect(new Set(chassis).size).toBe(chassis.length);
  });

  it("packs busybox, /init, capture.sh, each module with its dependency list and the ID table", () => {
    const gz = buildArm64Initramfs({
      busybox: new Uint8Array([1, 2, 3]),
      captureScript: "#!/bin/sh\n",
      modules: { nvme: [{ name: "nvme_core", data: Buffer.from("core") }, { name: "nvme", data: Buffer.from("nvme") }] },
    });
    const entries = readCpioNewc(gunzipSync(gz));
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(Buffer.from(byName.get("init")!.data).toString()).toBe(ARM64_INIT);
    expect(Buffer.from(byName.get("lib/modules/nvme.deps")!.data).toString()).toBe("nvme_core\nnvme\n");
    expect(Buffer.from(byName.get("lib/modules/nvme_core.ko")!.data).toString()).toBe("core");
    expect(Buffer.from(byName.get("lib/modules/ids")!.data).toString()).toContain("0x1b36:0x0010 nvme");
  });
});
