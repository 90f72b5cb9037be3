import { mkdir, open, symlink, writeFile } from "node:fs/promises";
import path from "node:path";

/** the fake physical memory file, below the root as a capture reads it */
const DEV_MEM_PATH = "dev/mem";

/** serial planted in every fake DSN capability */
export const FAKE_SERIAL = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88] as const;
/** host name planted in proc/sys/kernel/hostname; a capture must never contain it */
export const FAKE_HOSTNAME = "secret-host-7f3a";
/** DMI identity planted in sys/class/dmi/id (a link into sys/devices/virtual, as on a real host) */
export const FAKE_DMI = {
  sys_vendor: "Fake Systems Inc.",
  product_name: "FS-1000",
  board_vendor: "Fake Boards",
  board_name: "FB-X99 rev 2",
  bios_vendor: "Fake BIOS Corp.",
  bios_version: "1.23.4",
  bios_date: "03/14/2025",
} as const;
/** planted in the DMI serial and UUID files; a capture must never contain it */
export const FAKE_SERIAL_TEXT = "SERIAL-9c41-do-not-capture";

export interface FakeSysfsOptions {
  /** config files hold only the first 64 bytes, as an unprivileged read gives */
  readonly unprivileged?: boolean;
  /** add a chain of 19 bridges: paths past 256 characters (beyond ustar's name + prefix), link targets past 100 */
  readonly deep?: boolean;
  /**
   * add a Switchtec PFX 8536 behind root port 00:1d.0: upstream port 03:00.0
   * and NT endpoint 03:00.1 with a fake `resource0` (FAKE_NT_REGISTERS) and
   * a `resource` file whose line 1 places BAR0 at `bar0Base` as a memory BAR
   * of `bar0Size` bytes. "short": resource0 ends inside partition 2's table;
   * "all-ones": resource0 holds only 0xff bytes, as a BAR that is not
   * decoded reads; "unreadable": a folder stands where resource0 should be.
   * A folder is what both collect.ts and capture.sh (dd) fail to read
   * (EISDIR), standing in for the EIO of a real memory BAR's resource0,
   * which has no read method.
   */
  readonly switchtec?: "registers" | "short" | "all-ones" | "unreadable";
  /**
   * with `switchtec`: `dev/mem` below the root, a sparse file holding the
   * NT endpoint's BAR0 bytes at `bar0Base` (all 0xff for "all-ones");
   * "unreadable": a folder. Absent: no dev/mem (ENOENT).
   */
  readonly devMem?: "registers" | "all-ones" | "unreadable";
  /** physical address of the NT endpoint's BAR0; default FAKE_BAR0_BASE */
  readonly bar0Base?: number;
  /** BAR0 length in the NT endpoint's `resource` file; default FAKE_NT_REGISTERS.size */
  readonly bar0Size?: number;
  /**
   * an arm64 machine booted from a device tree: no ACPI tables, a
   * devicetree root `compatible`, an SMMUv3 instance link and arch aarch64
   * (default: x86_64 with a DMAR table and a dmar0 instance link)
   */
  readonly deviceTree?: boolean;
  /** x86 platform files: the dmar0 instance link, proc/sys/kernel/arch, proc/modules and e1000e's module link */
  readonly platform?: boolean;
}

/**
 * where the fake NT endpoint's BAR0 sits in physical memory: low enough that
 * the sparse dev/mem file stays cheap, high enough that a reader that reads
 * its way there instead of seeking is too slow to pass a test
 */
export const FAKE_BAR0_BASE = 0x1000_0000;
/** IORESOURCE_SIZEALIGN | IORESOURCE_MEM, as a 32-bit memory BAR shows in `resource` */
const FAKE_BAR0_FLAGS = 0x40200;

/** what the fake NT endpoint's resource0 holds (TV16 plus a size-0 partition and the 0x10024 slip) */
export const FAKE_NT_REGISTERS = {
  own: 1,
  /** partitions 0..3 have NT endpoints */
  epMapLo: 0x0000000f,
  /** ntp_info[0].target_part_low: the kernel reads it as ep_map's high word → partition 32 */
  at0x10024: 0x00000001,
  partitions: { 0: [0x00000101, 0x00000103], 2: [0x00000111], 3: [], 32: [] } as Record<number, number[]>,
  /** bytes in the file; "short" cuts it at 0x18402 */
  size: 0x56000,
} as const;

/** the NT endpoint's resource0: noise everywhere, the quirk's registers as FAKE_NT_REGISTERS says */
export function fakeNtResource0(short = false): Uint8Array {
  const r = FAKE_NT_REGISTERS;
  const b = new Uint8Array(r.size);
  for (let i = 0; i < b.length; i++) b[i] = (i * 13 + 7) & 0xff;
  const v = new DataView(b.buffer);
  v.setUint8(0x10001, r.own);
  v.setUint32(0x10004, r.epMapLo, true);
  v.setUint32(0x10008, 0, true);
  v.setUint32(0x10024, r.at0x10024, true);
  for (const [p, entries] of Object.entries(r.partitions)) {
    const ctrl = 0x14000 + Number(p) * 0x2000;
    v.setUint32(ctrl + 0x1c, entries.length | (0x0400 << 16), true); // size, table offset
    entries.forEach((e, i) => v.setUint32(ctrl + 0x400 + 4 * i, e, true));
  }
  return short ? b.slice(0, 0x18402) : b;
}

/** a function in the fake tree: its path below sys/devices, group and driver */
interface FakeFunction {
  readonly devPath: string;
  readonly group: number;
  readonly driver?: string;
  readonly dsnAt?: number;
  readonly resetMethod?: string;
  readonly vendor?: number;
  readonly device?: number;
  readonly classCode?: number;
  /** sets the multifunction bit of the header type */
  readonly multifunction?: boolean;
  readonly resource0?: Uint8Array | "unreadable";
  /** BAR0 in the `resource` file: physical address and length */
  readonly bar0?: { readonly base: number; readonly size: number };
}

/** a `resource` file: line 1 BAR0 (when given), the other 12 lines unassigned */
export function fakeResourceFile(bar0?: { readonly base: number; readonly size: number; readonly flags?: number }): string {
  const hex = (n: number): string => `0x${n.toString(16).padStart(16, "0")}`;
  const unset = `${hex(0)} ${hex(0)} ${hex(0)}\n`;
  const first = bar0 ? `${hex(bar0.base)} ${hex(bar0.base + bar0.size - 1)} ${hex(bar0.flags ?? FAKE_BAR0_FLAGS)}\n` : unset;
  return first + unset.repeat(12);
}

/**
 * 4096-byte config space: ids, a class code and, when `dsnAt` is set, an
 * extended capability chain 0x100 (ACS) → dsnAt (DSN) → end.
 */
export function fakeConfig(vendor: number, device: number, classCode: number, dsnAt?: number): Uint8Array {
  const c = new Uint8Array(4096);
  const view = new DataView(c.buffer);
  view.setUint16(0, vendor, true);
  view.setUint16(2, device, true);
  view.setUint32(8, (classCode << 8) | 0x01, true);
  for (let i = 0x40; i < 0x100; i++) c[i] = (i * 7) & 0xff;
  if (dsnAt !== undefined) {
    // ACS (0x000d) v1 at 0x100, next → DSN
    view.setUint32(0x100, 0x000d | (1 << 16) | (dsnAt << 20), true);
    view.setUint32(0x104, 0x5f, true);
    view.setUint32(dsnAt, 0x0003 | (1 << 16), true);
    c.set(FAKE_SERIAL, dsnAt + 4);
  }
  return c;
}

async function put(root: string, rel: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), data);
}

/** a sparse file: `data` at `position`, a hole before it */
async function putAt(root: string, rel: string, position: number, data: Uint8Array): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  const fh = await open(path.join(root, rel), "w");
  try {
    await fh.write(data, 0, data.length, position);
  } finally {
    await fh.close();
  }
}

async function link(root: string, rel: string, target: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await symlink(target, path.join(root, rel));
}

/** `../` repeated so that a link in `fromDir` (below sys/) reaches sys/ */
function upToSys(fromDir: string): string {
  return "../".repeat(fromDir.split("/").length - 1);
}

/**
 * Builds a small sysfs/procfs look-alike under `root`: a host bridge, a root
 * port with two functions behind it (one group), group links, a DMAR table,
 * proc files, and noise a capture must leave out (power/, drivers/, APIC,
 * hostname); with `devMem`, a dev/mem beside sys/ and proc/. For tests and
 * for trying the CLI without hardware.
 *
 * @returns the BDFs of the functions created
 */
export async function makeFakeSysfs(root: string, opts: FakeSysfsOptions = {}): Promise<string[]> {
  const fns: FakeFunction[] = [
    { devPath: "pci0000:00/0000:00:00.0", group: 0 },
    { devPath: "pci0000:00/0000:00:1c.0", group: 1, driver: "pcieport", dsnAt: 0x140, resetMethod: "pm\n" },
    { devPath: "pci0000:00/0000:00:1c.0/0000:01:00.0", group: 2, driver: "e1000e", dsnAt: 0x100 + 0x40, resetMethod: "flr bus\n" },
    { devPath: "pci0000:00/0000:00:1c.0/0000:01:00.1", group: 2 },
  ];
  if (opts.deep) {
    let parent = "pci0000:00/0000:00:1c.0";
    for (let bus = 2; bus <= 0x14; bus++) {
      parent = `${parent}/0000:${bus.toString(16).padStart(2, "0")}:00.0`;
      fns.push({ devPath: parent, group: 3, driver: "pcieport", dsnAt: 0x180 });
    }
  }
  if (opts.switchtec) {
    const sw = { vendor: 0x11f8, device: 0x8536 };
    fns.push(
      { devPath: "pci0000:00/0000:00:1d.0", group: 4, driver: "pcieport" },
      { devPath: "pci0000:00/0000:00:1d.0/0000:03:00.0", group: 5, driver: "pcieport", multifunction: true, ...sw },
      {
        devPath: "pci0000:00/0000:00:1d.0/0000:03:00.1",
        group: 6,
        driver: "switchtec",
        ...sw,
        classCode: 0x068000,
        resource0:
          opts.switchtec === "unreadable"
            ? "unreadable"
            : opts.switchtec === "all-ones"
              ? new Uint8Array(FAKE_NT_REGISTERS.size).fill(0xff)
              : fakeNtResource0(opts.switchtec === "short"),
        bar0: { base: opts.bar0Base ?? FAKE_BAR0_BASE, size: opts.bar0Size ?? FAKE_NT_REGISTERS.size },
      },
    );
  }
  const bdfs: string[] = [];
  for (const [i, fn] of fns.entries()) {
    const bdf = path.posix.basename(fn.devPath);
    bdfs.push(bdf);
    const dir = `sys/devices/${fn.devPath}`;
    const bridge = fn.driver === "pcieport";
    const vendor = fn.vendor ?? 0x8086;
    const device = fn.device ?? 0x1000 + i;
    const classCode = fn.classCode ?? (bridge ? 0x060400 : 0x020000);
    let config = fakeConfig(vendor, device, classCode, fn.dsnAt);
    if (fn.multifunction) config[0x0e] = 0x80;
    if (opts.unprivileged) config = config.slice(0, 64);
    await put(root, `${dir}/config`, config);
    await put(root, `${dir}/vendor`, `0x${vendor.toString(16).padStart(4, "0")}\n`);
    await put(root, `${dir}/device`, `0x${device.toString(16)}\n`);
    await put(root, `${dir}/subsystem_vendor`, "0x8086\n");
    await put(root, `${dir}/subsystem_device`, "0x0000\n");
    await put(root, `${dir}/class`, `0x${classCode.toString(16).padStart(6, "0")}\n`);
    if (fn.resource0 === "unreadable") await mkdir(path.join(root, dir, "resource0"), { recursive: true });
    else if (fn.resource0) await put(root, `${dir}/resource0`, fn.resource0);
    await put(root, `${dir}/revision`, "0x01\n");
    await put(root, `${dir}/numa_node`, "-1\n");
    await put(root, `${dir}/irq`, `${16 + i}\n`);
    await put(root, `${dir}/resource`, fakeResourceFile(fn.bar0));
    if (fn.resetMethod) await put(root, `${dir}/reset_method`, fn.resetMethod);
    if (fn.driver) await link(root, `${dir}/driver`, `${upToSys(dir)}bus/pci/drivers/${fn.driver}`);
    await link(root, `${dir}/iommu_group`, `${upToSys(dir)}kernel/iommu_groups/${fn.group}`);
    await link(root, `sys/bus/pci/devices/${bdf}`, `../../../devices/${fn.devPath}`);
    await link(root, `sys/kernel/iommu_groups/${fn.group}/devices/${bdf}`, `../../../../devices/${fn.devPath}`);
    // noise
    await put(root, `${dir}/power/control`, "auto\n");
    await put(root, `${dir}/uevent`, `PCI_SLOT_NAME=${bdf}\n`);
  }
  for (const group of new Set(fns.map((f) => f.group))) {
    await put(root, `sys/kernel/iommu_groups/${group}/type`, "DMA\n");
  }
  await mkdir(path.join(root, "sys/bus/pci/drivers/pcieport"), { recursive: true });
  if (opts.platform || opts.deviceTree) {
    await link(root, "sys/bus/pci/drivers/e1000e/module", "../../../../module/e1000e");
    await put(root, "proc/modules", "nvme 45056 0 - Live 0x0000000000000000\ne1000e 315392 0 - Live 0x0000000000000000\n");
  } else await mkdir(path.join(root, "sys/bus/pci/drivers/e1000e"), { recursive: true });
  if (opts.switchtec && opts.devMem === "unreadable") await mkdir(path.join(root, DEV_MEM_PATH), { recursive: true });
  else if (opts.switchtec && opts.devMem) {
    const bar = opts.devMem === "all-ones" ? new Uint8Array(FAKE_NT_REGISTERS.size).fill(0xff) : fakeNtResource0();
    await putAt(root, DEV_MEM_PATH, opts.bar0Base ?? FAKE_BAR0_BASE, bar);
  }
  if (opts.deviceTree) {
    await put(root, "sys/firmware/devicetree/base/compatible", "linux,dummy-virt\0");
    await put(root, "sys/firmware/devicetree/base/model", "linux,dummy-virt\0");
    await link(root, "sys/class/iommu/smmu3.0x0000000009050000", "../../devices/platform/9050000.smmuv3/iommu/smmu3.0x0000000009050000");
    await put(root, "proc/sys/kernel/arch", "aarch64\n");
  } else {
    // the root bus's ACPI host bridge, with the files a capture keeps (hid, uid, path) and some it does not
    const bridge = "sys/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0A08:00";
    await link(root, "sys/devices/pci0000:00/firmware_node", "../LNXSYSTM:00/LNXSYBUS:00/PNP0A08:00");
    await put(root, `${bridge}/hid`, "PNP0A08\n");
    await put(root, `${bridge}/uid`, "0\n");
    await put(root, `${bridge}/path`, "\\_SB_.PCI0\n");
    await put(root, `${bridge}/status`, "15\n");
    await put(root, "sys/firmware/acpi/tables/DMAR", new Uint8Array([0x44, 0x4d, 0x41, 0x52, 0x30, 0, 0, 0, 1, 0xaa]));
    await put(root, "sys/firmware/acpi/tables/APIC", "APIC");
    if (opts.platform) {
      await link(root, "sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
      await put(root, "proc/sys/kernel/arch", "x86_64\n");
    }
  }
  await put(root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz intel_iommu=on iommu=pt\n");
  await put(root, "proc/sys/kernel/osrelease", "6.1.0-test-amd64\n");
  await put(root, "proc/sys/kernel/hostname", `${FAKE_HOSTNAME}\n`);
  await put(root, "proc/cpuinfo", "processor : 0\n");
  // DMI: the identity files a capture keeps, and the serials and UUID it must leave out
  const dmi = "sys/devices/virtual/dmi/id";
  for (const [name, text] of Object.entries(FAKE_DMI)) await put(root, `${dmi}/${name}`, `${text}\n`);
  for (const name of ["product_serial", "board_serial", "chassis_serial", "product_uuid"]) await put(root, `${dmi}/${name}`, `${FAKE_SERIAL_TEXT}\n`);
  await link(root, "sys/class/dmi/id", "../../devices/virtual/dmi/id");
  return bdfs;
}

/** a FileTree as sorted text lines (`path file <hex>`, `path -> target`, `path/`), for readable test diffs */
export function treeListing(tree: ReadonlyMap<string, { kind: string; data?: Uint8Array; target?: string }>): string[] {
  return [...tree.entries()]
    .map(([p, e]) =>
      e.kind === "dir" ? `${p}/` : e.kind === "symlink" ? `${p} -> ${e.target}` : `${p} file ${Buffer.from(e.data ?? []).toString("hex")}`,
    )
    .sort();
}
