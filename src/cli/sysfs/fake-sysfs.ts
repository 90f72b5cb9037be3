import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";

/** serial planted in every fake DSN capability */
export const FAKE_SERIAL = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88] as const;
/** host name planted in proc/sys/kernel/hostname; a capture must never contain it */
export const FAKE_HOSTNAME = "secret-host-7f3a";

export interface FakeSysfsOptions {
  /** config files hold only the first 64 bytes, as an unprivileged read gives */
  readonly unprivileged?: boolean;
  /** add a chain of 19 bridges: paths past 256 characters (beyond ustar's name + prefix), link targets past 100 */
  readonly deep?: boolean;
}

/** a function in the fake tree: its path below sys/devices, group and driver */
interface FakeFunction {
  readonly devPath: string;
  readonly group: number;
  readonly driver?: string;
  readonly dsnAt?: number;
  readonly resetMethod?: string;
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
 * hostname). For tests and for trying the CLI without hardware.
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
  const bdfs: string[] = [];
  for (const [i, fn] of fns.entries()) {
    const bdf = path.posix.basename(fn.devPath);
    bdfs.push(bdf);
    const dir = `sys/devices/${fn.devPath}`;
    const bridge = fn.driver === "pcieport";
    let config = fakeConfig(0x8086, 0x1000 + i, bridge ? 0x060400 : 0x020000, fn.dsnAt);
    if (opts.unprivileged) config = config.slice(0, 64);
    await put(root, `${dir}/config`, config);
    await put(root, `${dir}/vendor`, "0x8086\n");
    await put(root, `${dir}/device`, `0x${(0x1000 + i).toString(16)}\n`);
    await put(root, `${dir}/subsystem_vendor`, "0x8086\n");
    await put(root, `${dir}/subsystem_device`, "0x0000\n");
    await put(root, `${dir}/class`, bridge ? "0x060400\n" : "0x020000\n");
    await put(root, `${dir}/revision`, "0x01\n");
    await put(root, `${dir}/numa_node`, "-1\n");
    await put(root, `${dir}/irq`, `${16 + i}\n`);
    await put(root, `${dir}/resource`, "0x0000000000000000 0x0000000000000000 0x0000000000000000\n".repeat(13));
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
  await mkdir(path.join(root, "sys/bus/pci/drivers/e1000e"), { recursive: true });
  await put(root, "sys/firmware/acpi/tables/DMAR", new Uint8Array([0x44, 0x4d, 0x41, 0x52, 0x30, 0, 0, 0, 1, 0xaa]));
  await put(root, "sys/firmware/acpi/tables/APIC", "APIC");
  await put(root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz intel_iommu=on iommu=pt\n");
  await put(root, "proc/sys/kernel/osrelease", "6.1.0-test-amd64\n");
  await put(root, "proc/sys/kernel/hostname", `${FAKE_HOSTNAME}\n`);
  await put(root, "proc/cpuinfo", "processor : 0\n");
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
