import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dirname, resolveLink } from "../../core/fs/file-tree.js";
import { predict } from "../../core/iommu/predict.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import { encodeExcerpt } from "../../core/switchtec/excerpt.js";
import { proxyAliases } from "../../core/switchtec/proxy-aliases.js";
import { collectSysfs, firmwareNodeDir } from "./collect.js";
import { FAKE_DMI, FAKE_HOSTNAME, FAKE_SERIAL, FAKE_SERIAL_TEXT, fakeNtResource0, fakeResourceFile, makeFakeSysfs } from "./fake-sysfs.js";
import { NO_MEM_BAR, describeNotes } from "./notes.js";

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-collect-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const ROOT_PORT = "sys/devices/pci0000:00/0000:00:1c.0";
const NIC = `${ROOT_PORT}/0000:01:00.0`;

describe("collectSysfs", () => {
  it("records the functions, links, groups, DMAR and proc files, nothing else", async () => {
    await makeFakeSysfs(tmp, { platform: true });
    const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });

    expect(notes).toEqual([]);
    expect(tree.get("sys/bus/pci/devices/0000:01:00.1")).toEqual({
      kind: "symlink",
      target: "../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.1",
    });
    expect(tree.get(`${NIC}/driver`)).toEqual({ kind: "symlink", target: "../../../../bus/pci/drivers/e1000e" });
    expect(tree.get(`${NIC}/iommu_group`)).toEqual({ kind: "symlink", target: "../../../../kernel/iommu_groups/2" });
    expect(tree.get("sys/kernel/iommu_groups/2/devices/0000:01:00.0")?.kind).toBe("symlink");
    expect(tree.get(`${ROOT_PORT}/reset_method`)).toEqual({ kind: "file", data: new TextEncoder().encode("pm\n") });
    expect(tree.get(`${NIC}/config`)).toMatchObject({ kind: "file" });
    expect(tree.get("sys/firmware/acpi/tables/DMAR")?.kind).toBe("file");
    expect(tree.get("proc/sys/kernel/osrelease")?.kind).toBe("file");
    // the root bus's ACPI host bridge: link, _HID, _UID, namespace path; not its other files
    expect(tree.get("sys/devices/pci0000:00/firmware_node")).toEqual({ kind: "symlink", target: "../LNXSYSTM:00/LNXSYBUS:00/PNP0A08:00" });
    const bridge = "sys/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0A08:00";
    expect(tree.get(`${bridge}/uid`)).toEqual({ kind: "file", data: new TextEncoder().encode("0\n") });
    expect(tree.get(`${bridge}/hid`)?.kind).toBe("file");
    expect(tree.get(`${bridge}/path`)?.kind).toBe("file");
    expect(tree.has(`${bridge}/status`)).toBe(false);
    for (const dir of ["sys", "sys/devices", "sys/devices/pci0000:00", ROOT_PORT, NIC, "sys/bus/pci/devices", "sys/kernel/iommu_groups/2/devices"]) {
      expect(tree.get(dir), dir).toEqual({ kind: "dir" });
    }

    const keys = [...tree.keys()];
    // left out: host name, unrelated proc/sys files, power/, uevent, drivers/ (but a bound driver's module link), group type, other ACPI tables
    expect(tree.get("sys/bus/pci/drivers/e1000e/module")).toEqual({ kind: "symlink", target: "../../../../module/e1000e" });
    expect(tree.get("sys/class/iommu/dmar0")).toEqual({ kind: "symlink", target: "../../devices/virtual/iommu/dmar0" });
    expect(tree.get("proc/sys/kernel/arch")?.kind).toBe("file");
    for (const key of keys.filter((k) => k !== "sys/bus/pci/drivers/e1000e/module" && !/^sys\/bus\/pci\/drivers(\/e1000e)?$/.test(k))) {
      expect(key).not.toMatch(/hostname|cpuinfo|\/power|uevent|drivers\/|\/type$|APIC/);
    }
    for (const [key, entry] of tree) {
      if (entry.kind === "file") expect(new TextDecoder().decode(entry.data)).not.toContain(FAKE_HOSTNAME);
      const parent = dirname(key);
      if (parent !== "") expect(tree.get(parent), `parent of ${key}`).toEqual({ kind: "dir" });
    }
    // every bus link resolves to a recorded device folder
    for (const bdf of ["0000:00:00.0", "0000:00:1c.0", "0000:01:00.0", "0000:01:00.1"]) {
      const dev = resolveLink(tree, `sys/bus/pci/devices/${bdf}`);
      expect(dev && tree.get(dev)).toEqual({ kind: "dir" });
    }
  });

  it("records the DMI make, board and firmware as plain files, never the serials, the UUID or the host name", async () => {
    await makeFakeSysfs(tmp);
    const { tree } = await collectSysfs(tmp, { readRegisters: true });
    const text = (rel: string): string | undefined => {
      const e = tree.get(rel);
      return e?.kind === "file" ? new TextDecoder().decode(e.data) : undefined;
    };
    for (const [name, value] of Object.entries(FAKE_DMI)) expect(text(`sys/class/dmi/id/${name}`), name).toBe(`${value}\n`);
    expect(tree.get("sys/class/dmi/id")).toEqual({ kind: "dir" });
    expect([...tree.keys()].filter((k) => k.startsWith("sys/class/dmi/id/")).sort()).toEqual(Object.keys(FAKE_DMI).map((n) => `sys/class/dmi/id/${n}`).sort());
    for (const [key, entry] of tree) {
      expect(key).not.toMatch(/serial|uuid|sys\/devices\/virtual/);
      if (entry.kind === "file") expect(new TextDecoder().decode(entry.data)).not.toContain(FAKE_SERIAL_TEXT);
    }
    expect(tree.has("proc/sys/kernel/hostname")).toBe(false);

    const named = (await collectSysfs(tmp, { readRegisters: true, hostname: true })).tree.get("proc/sys/kernel/hostname");
    expect(named).toEqual({ kind: "file", data: new TextEncoder().encode(`${FAKE_HOSTNAME}\n`) });
  });

  it("keeps the full 4096-byte config and its serial unless redacting", async () => {
    await makeFakeSysfs(tmp);
    const plain = (await collectSysfs(tmp, { readRegisters: true })).tree.get(`${NIC}/config`);
    const redacted = await collectSysfs(tmp, { redact: true, readRegisters: true });
    const zeroed = redacted.tree.get(`${NIC}/config`);
    if (plain?.kind !== "file" || zeroed?.kind !== "file") throw new Error("config missing");

    expect(plain.data.length).toBe(4096);
    expect([...plain.data.subarray(0x144, 0x14c)]).toEqual([...FAKE_SERIAL]);
    expect([...zeroed.data.subarray(0x144, 0x14c)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(redacted.notes).toEqual([
      { code: "dsn-zeroed", bdf: "0000:00:1c.0" },
      { code: "dsn-zeroed", bdf: "0000:01:00.0" },
    ]);
  });

  it("records 64-byte config reads and notes each as truncated", async () => {
    await makeFakeSysfs(tmp, { unprivileged: true });
    const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
    const config = tree.get(`${NIC}/config`);
    expect(config?.kind === "file" && config.data.length).toBe(64);
    expect(notes.filter((n) => n.code === "config-truncated")).toHaveLength(4);
    expect(notes).toContainEqual({ code: "config-truncated", bdf: "0000:01:00.0", bytes: 64 });
  });

  it("skips unreadable files with a note instead of failing", async () => {
    await makeFakeSysfs(tmp);
    // a folder where a file should be: EISDIR for root and non-root alike
    await unlink(path.join(tmp, NIC, "irq"));
    await mkdir(path.join(tmp, NIC, "irq"));
    await rm(path.join(tmp, "sys/firmware/acpi/tables/DMAR"));
    await mkdir(path.join(tmp, "sys/firmware/acpi/tables/DMAR"));

    const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
    expect(tree.has(`${NIC}/irq`)).toBe(false);
    expect(tree.has(`${NIC}/vendor`)).toBe(true);
    expect(notes).toEqual([
      { code: "unreadable", path: `${NIC}/irq`, reason: "EISDIR" },
      { code: "unreadable", path: "sys/firmware/acpi/tables/DMAR", reason: "EISDIR" },
    ]);
  });

  it("notes a missing sys/bus/pci, no IOMMU groups and no IOMMU table", async () => {
    await mkdir(path.join(tmp, "proc"), { recursive: true });
    const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
    expect(notes).toEqual([
      { code: "no-pci-bus", path: "sys/bus/pci/devices" },
      { code: "no-iommu-groups" },
      { code: "no-iommu-table" },
    ]);
    expect(tree.size).toBe(0);

    const missing = await collectSysfs(path.join(tmp, "does-not-exist"), { readRegisters: true });
    expect(missing.notes[0]).toEqual({ code: "no-pci-bus", path: "sys/bus/pci/devices" });
  });

  it("skips bus links that lead outside sys/devices or nowhere", async () => {
    await makeFakeSysfs(tmp);
    await mkdir(path.join(tmp, "elsewhere/0000:09:00.0"), { recursive: true });
    await symlink("../../../../elsewhere/0000:09:00.0", path.join(tmp, "sys/bus/pci/devices/0000:09:00.0"));
    await symlink("../../../devices/pci0000:00/0000:00:1f.0", path.join(tmp, "sys/bus/pci/devices/0000:00:1f.0"));

    const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
    expect(notes).toEqual([
      { code: "unreadable", path: "sys/bus/pci/devices/0000:00:1f.0", reason: "ENOENT" },
      { code: "link-outside", path: "sys/bus/pci/devices/0000:09:00.0", target: "../../../../elsewhere/0000:09:00.0" },
    ]);
    expect([...tree.keys()].some((k) => k.includes("0000:09:00.0") || k.includes("0000:00:1f.0"))).toBe(false);
  });

  const liveSysfs = existsSync("/sys/bus/pci/devices");
  it.skipIf(!liveSysfs)(`reads this host's /sys without throwing${liveSysfs ? "" : " (skipped: no /sys/bus/pci here)"}`, async () => {
    const { tree, notes } = await collectSysfs("/", { readRegisters: true });
    for (const note of notes) expect(note.code).not.toBe("link-outside");
    for (const [key, entry] of tree) {
      if (!key.startsWith("sys/bus/pci/devices/")) continue;
      expect(entry.kind).toBe("symlink");
      const dev = resolveLink(tree, key);
      expect(dev && tree.get(dev)).toEqual({ kind: "dir" });
    }
    expect([...tree.keys()].some((k) => k.includes("hostname"))).toBe(false);
  });

  describe("Switchtec NT endpoint registers", () => {
    const NT_DIR = "sys/devices/pci0000:00/0000:00:1d.0/0000:03:00.1";
    const bar = fakeNtResource0();
    const at = (offset: number, size: number) => ({ offset, bytes: bar.subarray(offset, offset + size) });

    it("reads only the ranges the quirk reads into resource0.excerpt, never resource0 itself", async () => {
      await makeFakeSysfs(tmp, { switchtec: "registers" });
      const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
      expect(notes).toEqual([]);
      expect(tree.has(`${NT_DIR}/resource0`)).toBe(false);
      // ntb_info; partitions 0, 2, 3 from ep_map 0xf minus own 1; 32 from the dword at 0x10024
      const expected = encodeExcerpt([
        at(0x10000, 0x40),
        at(0x1401c, 4),
        at(0x14400, 8),
        at(0x1801c, 4),
        at(0x18400, 4),
        at(0x1a01c, 4),
        at(0x5401c, 4),
      ]);
      expect(tree.get(`${NT_DIR}/resource0.excerpt`)).toEqual({ kind: "file", data: expected });
      // other functions get no excerpt
      expect([...tree.keys()].filter((k) => k.endsWith(".excerpt"))).toEqual([`${NT_DIR}/resource0.excerpt`]);
    });

    it("without readRegisters (every command but capture) never reads the device, but keeps an excerpt already in the tree", async () => {
      await makeFakeSysfs(tmp, { switchtec: "registers" });
      const live = await collectSysfs(tmp);
      expect(live.tree.has(`${NT_DIR}/resource0.excerpt`)).toBe(false);
      expect(live.notes).toEqual([]);
      // an extracted capture: the excerpt is a plain file next to the others
      const captured = (await collectSysfs(tmp, { readRegisters: true })).tree.get(`${NT_DIR}/resource0.excerpt`);
      if (captured?.kind !== "file") throw new Error("fixture: no excerpt captured");
      await writeFile(path.join(tmp, NT_DIR, "resource0.excerpt"), captured.data);
      await rm(path.join(tmp, NT_DIR, "resource0"), { recursive: true, force: true });
      expect((await collectSysfs(tmp)).tree.get(`${NT_DIR}/resource0.excerpt`)).toEqual(captured);
    });

    it("round trip: capture → snapshot → the quirk's aliases and warnings → the prediction", async () => {
      await makeFakeSysfs(tmp, { switchtec: "registers" });
      const snapshot = snapshotFromSysfs((await collectSysfs(tmp, { readRegisters: true })).tree);
      const image = snapshot.ntb?.get("0000:03:00.1");
      expect(image?.issues).toEqual([]);
      const r = proxyAliases(image!);
      expect(r.status).toBe("ok");
      expect(r.devfns).toEqual([0x80, 0x81, 0x88]);
      expect(r.warnings).toEqual([
        { text: "Partition 3 table_sz 0", partition: 3 },
        { text: "Partition 32 table_sz 0", partition: 32 },
      ]);
      const p = predict(snapshot);
      expect(p.ntb.get("0000:03:00.1")?.status).toBe("from-registers");
      expect(p.props("0000:03:00.1").aliasDevfns).toEqual([0x80, 0x81, 0x88]);
    });

    it("a read that stops at the end of resource0 keeps what it got", async () => {
      await makeFakeSysfs(tmp, { switchtec: "short" });
      const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
      expect(notes).toEqual([]);
      const expected = encodeExcerpt([at(0x10000, 0x40), at(0x1401c, 4), at(0x14400, 8), at(0x1801c, 4), at(0x18400, 2)]);
      expect(tree.get(`${NT_DIR}/resource0.excerpt`)).toEqual({ kind: "file", data: expected });
      const r = proxyAliases(snapshotFromSysfs(tree).ntb!.get("0000:03:00.1")!);
      expect(r.status).toBe("incomplete");
      expect(r.devfns).toEqual([0x80, 0x81]);
      expect(r.missing.map((m) => m.register)).toEqual(["ntb_ctrl[2].req_id_table[0]", "ntb_ctrl[3].req_id_table_size", "ntb_ctrl[32].req_id_table_size"]);
    });

    const FULL = [at(0x10000, 0x40), at(0x1401c, 4), at(0x14400, 8), at(0x1801c, 4), at(0x18400, 4), at(0x1a01c, 4), at(0x5401c, 4)];

    it("prefers resource0 when it reads, though dev/mem holds other bytes", async () => {
      await makeFakeSysfs(tmp, { switchtec: "registers", devMem: "all-ones" });
      const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
      expect(notes).toEqual([]);
      expect(tree.get(`${NT_DIR}/resource0.excerpt`)).toEqual({ kind: "file", data: encodeExcerpt(FULL) });
    });

    it("an unreadable resource0 falls back to dev/mem at BAR0's address from the resource file: the same excerpt", async () => {
      await makeFakeSysfs(tmp, { switchtec: "unreadable", devMem: "registers" });
      const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
      expect(notes).toEqual([]);
      expect(tree.get(`${NT_DIR}/resource0.excerpt`)).toEqual({ kind: "file", data: encodeExcerpt(FULL) });
      expect([...tree.keys()].some((k) => k.startsWith("dev"))).toBe(false);
      const p = predict(snapshotFromSysfs(tree));
      expect(p.props("0000:03:00.1").aliasDevfns).toEqual([0x80, 0x81, 0x88]);
    });

    it("reads dev/mem no further than BAR0's end, as resource0 ends there", async () => {
      // BAR0 ends where partition 2's table starts: its table and the later size dwords read empty
      await makeFakeSysfs(tmp, { switchtec: "unreadable", devMem: "registers", bar0Size: 0x18400 });
      const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
      expect(notes).toEqual([]);
      expect(tree.get(`${NT_DIR}/resource0.excerpt`)).toEqual({
        kind: "file",
        data: encodeExcerpt([at(0x10000, 0x40), at(0x1401c, 4), at(0x14400, 8), at(0x1801c, 4)]),
      });
    });

    it("neither path readable: a note with both reasons, no excerpt; the prediction calls the aliases unknown", async () => {
      await makeFakeSysfs(tmp, { switchtec: "unreadable" });
      const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
      expect(notes).toEqual([{ code: "ntb-registers-unread", bdf: "0000:03:00.1", reason: "EISDIR", devMem: "ENOENT" }]);
      expect(describeNotes(notes)).toEqual([
        "Switchtec NT registers unreadable on 1 function: 0000:03:00.1 (resource0 EISDIR, /dev/mem ENOENT); proxy aliases stay unknown; " +
          "no dev/mem below the capture root; else declare the partition table in a design file (switchtec: key, docs/design.md)",
      ]);
      expect(tree.has(`${NT_DIR}/resource0.excerpt`)).toBe(false);
      const p = predict(snapshotFromSysfs(tree));
      expect(p.ntb.get("0000:03:00.1")?.status).toBe("unknown");

      await rm(tmp, { recursive: true });
      await makeFakeSysfs(tmp, { switchtec: "unreadable", devMem: "unreadable" });
      expect((await collectSysfs(tmp, { readRegisters: true })).notes).toEqual([{ code: "ntb-registers-unread", bdf: "0000:03:00.1", reason: "EISDIR", devMem: "EISDIR" }]);
    });

    it("does not try dev/mem when the resource file gives BAR0 no memory address", async () => {
      await makeFakeSysfs(tmp, { switchtec: "unreadable", devMem: "registers" });
      await writeFile(path.join(tmp, NT_DIR, "resource"), fakeResourceFile({ base: 0xe000, size: 0x100, flags: 0x40101 }));
      const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
      expect(notes).toEqual([{ code: "ntb-registers-unread", bdf: "0000:03:00.1", reason: "EISDIR", devMem: NO_MEM_BAR }]);
      expect(describeNotes(notes)[0]).toContain("0000:03:00.1 (resource0 EISDIR, /dev/mem not tried); proxy aliases stay unknown; the resource file gives BAR0 no memory address;");
      expect(tree.has(`${NT_DIR}/resource0.excerpt`)).toBe(false);
    });

    it("all ones from dev/mem: a note that the BAR is not decoded, no excerpt", async () => {
      await makeFakeSysfs(tmp, { switchtec: "unreadable", devMem: "all-ones" });
      const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
      expect(notes).toEqual([{ code: "ntb-registers-all-ones", bdf: "0000:03:00.1", source: "/dev/mem" }]);
      expect(describeNotes(notes)).toEqual([
        "Switchtec NT registers read as all ones on 1 function: 0000:03:00.1 (/dev/mem); proxy aliases stay unknown; " +
          "the function does not decode its BAR (memory space off, or powered down): bind the switchtec driver or enable it " +
          "(echo 1 > /sys/bus/pci/devices/<bdf>/enable), then capture again",
      ]);
      expect(tree.has(`${NT_DIR}/resource0.excerpt`)).toBe(false);
      expect(predict(snapshotFromSysfs(tree)).ntb.get("0000:03:00.1")?.status).toBe("unknown");
    });

    it("all ones from resource0: the same note, and no second try at dev/mem", async () => {
      await makeFakeSysfs(tmp, { switchtec: "all-ones", devMem: "registers" });
      const { tree, notes } = await collectSysfs(tmp, { readRegisters: true });
      expect(notes).toEqual([{ code: "ntb-registers-all-ones", bdf: "0000:03:00.1", source: "resource0" }]);
      expect(tree.has(`${NT_DIR}/resource0.excerpt`)).toBe(false);
    });
  });
});

describe("firmwareNodeDir", () => {
  it("takes a host bridge below sys/devices and nothing that climbs out", () => {
    expect(firmwareNodeDir("../LNXSYSTM:00/LNXSYBUS:00/PNP0A08:01")).toBe("sys/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0A08:01");
    for (const t of ["../../etc", "../a/../../b", "/sys/devices/x", "LNXSYSTM:00", "../", "../a//b"]) expect(firmwareNodeDir(t), t).toBeUndefined();
  });
});
