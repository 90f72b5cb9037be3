import { lstat, open, readdir, readFile, readlink, realpath } from "node:fs/promises";
import { machine } from "node:os";
import path from "node:path";
import { DMI_DIR, DMI_FIELDS, HOSTNAME_PATH } from "../../core/fleet/identity.js";
import { asciiText, dirname, type FileTree, type FileTreeEntry } from "../../core/fs/file-tree.js";
import { EXCERPT_FILE, EXCERPT_SOURCE_FILE } from "../../core/switchtec/excerpt.js";
import { errnoCode } from "./errors.js";
import { NO_MEM_BAR, type CaptureNote, type NtbReadSource } from "./notes.js";
import { DEV_MEM, memBar0, readNtbExcerpt, type BarFile } from "./ntb-registers.js";
import { zeroDeviceSerial } from "./redact.js";

/** where the kernel lists every PCI function */
export const PCI_DEVICES_DIR = "sys/bus/pci/devices";
/** one folder per IOMMU group, each with a devices/ folder of links */
export const IOMMU_GROUPS_DIR = "sys/kernel/iommu_groups";
/** the IOMMU ACPI tables (Intel VT-d, AMD-Vi, Arm SMMU) */
export const IOMMU_ACPI_TABLES = ["DMAR", "IVRS", "IORT"] as const;
export const ACPI_TABLES_DIR = "sys/firmware/acpi/tables";
/** one link per IOMMU instance the kernel registered (dmar0, ivhd0, smmu3.0x…) */
export const IOMMU_CLASS_DIR = "sys/class/iommu";
/** the root node's compatible strings: present on a machine booted from a device tree */
export const DT_COMPATIBLE = "sys/firmware/devicetree/base/compatible";
/** the machine's architecture, as `uname -m` prints it */
export const ARCH_FILE = "proc/sys/kernel/arch";

/** per-function regular files; absent ones are skipped silently */
const FUNCTION_FILES = [
  "config",
  "vendor",
  "device",
  "subsystem_vendor",
  "subsystem_device",
  "class",
  "revision",
  "numa_node",
  "irq",
  "resource",
  "reset_method",
] as const;
/** per-function symlinks */
const FUNCTION_LINKS = ["driver", "iommu_group"] as const;
/**
 * never the host name unless asked for: only these proc files (kernel/version
 * and Ubuntu's version_signature name the upstream release behind an
 * ABI-named osrelease such as 6.1.0-37-amd64; modules gives the module
 * load order)
 */
const PROC_FILES = ["proc/cmdline", "proc/sys/kernel/osrelease", "proc/sys/kernel/version", "proc/version_signature", "proc/modules"] as const;
/** where a bound driver's module link lives (absent for built-in drivers) */
export const PCI_DRIVERS_DIR = "sys/bus/pci/drivers";

const SYS_DEVICES_DIR = "sys/devices";
/** `pciDDDD:BB`: a root bus's device folder */
const ROOT_BUS_DIR = /^pci[0-9a-f]{4}:[0-9a-f]{2}$/;
/** a host bridge's ACPI identity: _HID, _UID, namespace path */
const FIRMWARE_NODE_FILES = ["hid", "uid", "path"] as const;

/**
 * `sys/devices/LNXSYSTM:00/…/PNP0A08:00` for a root bus's `firmware_node`
 * target `../LNXSYSTM:00/…/PNP0A08:00`; undefined for any other shape
 * (capture.sh takes the same ones)
 */
export function firmwareNodeDir(target: string): string | undefined {
  const rest = target.startsWith("../") ? target.slice(3) : undefined;
  if (rest === undefined || rest === "" || rest.split("/").some((s) => s === "" || s === "." || s === "..")) return undefined;
  return `${SYS_DEVICES_DIR}/${rest}`;
}

/** conventional config space; shorter reads mean an unprivileged reader */
const CONFIG_FULL_SIZE = 256;

/** absent is data, not an error */
const ABSENT = new Set(["ENOENT", "ENOTDIR"]);

/**
 * Switchtec NT endpoints, whose BAR0 registers a capture excerpts: the
 * `vendor` and `class` file texts (vendor 0x11f8 or 0x1055, class 0x0680xx).
 * capture.sh matches the same texts.
 */
const NT_VENDOR_TEXT = /^0x(11f8|1055)$/;
const NT_CLASS_TEXT = /^0x0680[0-9a-f]{2}$/;

export interface CollectOptions {
  /** zero Device Serial Numbers in config space */
  readonly redact?: boolean;
  /**
   * read Switchtec NT endpoints' BAR0 registers (resource0, then /dev/mem):
   * only `capture` does; other commands keep an excerpt already in the tree
   * (an extracted capture) and never touch device registers
   */
  readonly readRegisters?: boolean;
  /**
   * called before each read with the path below the root ("open"), and for
   * config files once more between the size check and the read ("read"):
   * tests change the tree here to play a sysfs that changes while it is read
   */
  readonly beforeRead?: (rel: string, phase: "open" | "read") => void | Promise<void>;
  /** also record proc/sys/kernel/hostname */
  readonly hostname?: boolean;
}

/**
 * Reads the sysfs/procfs subset iommu-atlas needs from `root` (the folder
 * holding `sys/` and `proc/`; `/` for the live host) into a FileTree:
 * every function behind `sys/bus/pci/devices` (its files and `driver` /
 * `iommu_group` links), the IOMMU group links, the IOMMU instance links
 * under `sys/class/iommu`, the DMAR/IVRS/IORT ACPI tables, the device
 * tree's root `compatible` (a device-tree machine), each bound driver's
 * `module` link, each root bus's `firmware_node` link with its `hid`, `uid`
 * and `path`, the proc files of PROC_FILES, the architecture
 * (`proc/sys/kernel/arch`; on the live host, when the kernel lacks that
 * file, `uname -m` under the same name), the DMI identity files
 * (DMI_FIELDS: make, board and firmware; no serials), the host name only
 * with `hostname`, and for Switchtec NT
 * endpoints a `resource0.excerpt` of the BAR0 registers the DMA-alias quirk
 * reads (root only; from resource0, else from `dev/mem` below `root`: see
 * ntb-registers.ts). Symlinks stay symlinks with
 * the kernel's target text; every ancestor folder is a dir entry.
 *
 * Never throws for unreadable content: what cannot be read is left out and
 * reported as a note.
 */
export async function collectSysfs(
  root: string,
  opts: CollectOptions = {},
): Promise<{ tree: FileTree; notes: CaptureNote[] }> {
  const tree = new Map<string, FileTreeEntry>();
  const notes: CaptureNote[] = [];
  const abs = (rel: string): string => path.join(root, rel);

  const failed = (rel: string, err: unknown): void => {
    const code = errnoCode(err) ?? "EIO";
    if (!ABSENT.has(code)) notes.push({ code: "unreadable", path: rel, reason: code });
  };
  const addFile = async (rel: string): Promise<Uint8Array | undefined> => {
    try {
      await opts.beforeRead?.(rel, "open");
      const data = new Uint8Array(await readFile(abs(rel)));
      tree.set(rel, { kind: "file", data });
      return data;
    } catch (err) {
      failed(rel, err);
      return undefined;
    }
  };
  const addLink = async (rel: string): Promise<string | undefined> => {
    try {
      await opts.beforeRead?.(rel, "open");
      const target = await readlink(abs(rel));
      tree.set(rel, { kind: "symlink", target });
      return target;
    } catch (err) {
      // EINVAL: exists but is not a link
      failed(rel, err);
      return undefined;
    }
  };
  const list = async (rel: string): Promise<string[] | undefined> => {
    try {
      await opts.beforeRead?.(rel, "open");
      return (await readdir(abs(rel))).sort();
    } catch (err) {
      failed(rel, err);
      return undefined;
    }
  };
  const addDir = (rel: string): void => {
    tree.set(rel, { kind: "dir" });
  };
  const addNtbExcerpt = async (devRel: string, bdf: string): Promise<void> => {
    const text = (name: string): string => {
      const e = tree.get(`${devRel}/${name}`);
      return e?.kind === "file" ? asciiText(e.data).replace(/\n+$/, "") : "";
    };
    if (!NT_VENDOR_TEXT.test(text("vendor")) || !NT_CLASS_TEXT.test(text("class"))) return;
    if (!opts.readRegisters) {
      await addFile(`${devRel}/${EXCERPT_FILE}`);
      return;
    }
    // undefined when done (an excerpt, or an all-ones note); else the errno code of the failed open or read
    const tryRead = async (bar: BarFile, source: NtbReadSource): Promise<string | undefined> => {
      try {
        const r = await readNtbExcerpt(bar);
        if (r.kind === "all-ones") notes.push({ code: "ntb-registers-all-ones", bdf, source });
        else tree.set(`${devRel}/${EXCERPT_FILE}`, { kind: "file", data: r.bytes });
        return undefined;
      } catch (err) {
        return errnoCode(err) ?? "EIO";
      }
    };
    // 1. resource0: I/O BARs (and fake trees); a memory BAR's file has no read method (EIO)
    const reason = await tryRead({ file: abs(`${devRel}/${EXCERPT_SOURCE_FILE}`) }, "resource0");
    if (reason === undefined) return;
    // 2. /dev/mem at BAR0's physical address, whatever resource0's failure was (capture.sh cannot tell)
    const resource = tree.get(`${devRel}/resource`);
    const bar = resource?.kind === "file" ? memBar0(asciiText(resource.data)) : undefined;
    const devMem = bar === undefined ? NO_MEM_BAR : await tryRead({ file: abs(DEV_MEM), base: bar.start, size: bar.size }, "/dev/mem");
    if (devMem !== undefined) notes.push({ code: "ntb-registers-unread", bdf, reason, devMem });
  };

  const rootReal = await realpath(root).catch(() => undefined);
  const bdfs = rootReal === undefined ? undefined : await list(PCI_DEVICES_DIR);
  if (rootReal === undefined || bdfs === undefined) {
    notes.push({ code: "no-pci-bus", path: PCI_DEVICES_DIR });
  } else {
    addDir(PCI_DEVICES_DIR);
    for (const bdf of bdfs) {
      await addFunction(bdf, rootReal);
    }
  }

  async function addFunction(bdf: string, rootReal: string): Promise<void> {
    const linkRel = `${PCI_DEVICES_DIR}/${bdf}`;
    let target: string;
    let real: string;
    try {
      await opts.beforeRead?.(linkRel, "open");
      target = await readlink(abs(linkRel));
      real = await realpath(abs(linkRel));
    } catch (err) {
      // a dangling bus link is worth a note even when ENOENT
      notes.push({ code: "unreadable", path: linkRel, reason: errnoCode(err) ?? "EIO" });
      return;
    }
    // physical path inside the root, as `cd -P` gives it in capture.sh
    const devRel = path.relative(rootReal, real).split(path.sep).join("/");
    if (!devRel.startsWith("sys/devices/")) {
      notes.push({ code: "link-outside", path: linkRel, target });
      return;
    }
    tree.set(linkRel, { kind: "symlink", target });
    addDir(devRel);
    for (const name of FUNCTION_FILES) {
      const data = name === "config" ? await addConfig(`${devRel}/${name}`, bdf) : await addFile(`${devRel}/${name}`);
      if (name !== "config" || data === undefined) continue;
      if (data.length < CONFIG_FULL_SIZE) notes.push({ code: "config-truncated", bdf, bytes: data.length });
      if (opts.redact) {
        const zeroed = zeroDeviceSerial(data);
        if (zeroed !== data) {
          tree.set(`${devRel}/config`, { kind: "file", data: zeroed });
          notes.push({ code: "dsn-zeroed", bdf });
        }
      }
    }
    for (const name of FUNCTION_LINKS) await addLink(`${devRel}/${name}`);
    // the bound driver's module (load order: proc/modules); once per driver
    const driver = tree.get(`${devRel}/driver`);
    if (driver?.kind === "symlink") {
      const name = path.posix.basename(driver.target);
      if (!tree.has(`${PCI_DRIVERS_DIR}/${name}/module`)) await addLink(`${PCI_DRIVERS_DIR}/${name}/module`);
    }
    await addNtbExcerpt(devRel, bdf);
    // removed while it was read (hot unplug, VFs disabled): keep none of it rather than half
    const exists = (rel: string): Promise<boolean> => lstat(abs(rel)).then(
      () => true,
      () => false,
    );
    const linked = await exists(linkRel);
    // an unreadable config of a function still there is noted already
    if (linked && (tree.has(`${devRel}/config`) || (await exists(devRel)))) return;
    for (const key of [...tree.keys()]) if (key === linkRel || key === devRel || key.startsWith(`${devRel}/`)) tree.delete(key);
    notes.push({ code: "function-vanished", bdf });
  }

  /** a config file, noting a read that gives fewer bytes than the file's size claims */
  async function addConfig(rel: string, bdf: string): Promise<Uint8Array | undefined> {
    let claimed: number;
    let data: Uint8Array;
    try {
      await opts.beforeRead?.(rel, "open");
      const fh = await open(abs(rel), "r");
      try {
        claimed = (await fh.stat()).size;
        await opts.beforeRead?.(rel, "read");
        data = new Uint8Array(await fh.readFile());
      } finally {
        await fh.close();
      }
    } catch (err) {
      failed(rel, err);
      return undefined;
    }
    tree.set(rel, { kind: "file", data });
    if (data.length >= CONFIG_FULL_SIZE && data.length < claimed) notes.push({ code: "config-short-read", bdf, bytes: data.length, claimed });
    return data;
  }

  const groups = await list(IOMMU_GROUPS_DIR);
  let groupCount = 0;
  if (groups !== undefined) {
    addDir(IOMMU_GROUPS_DIR);
    for (const group of groups) {
      const devicesRel = `${IOMMU_GROUPS_DIR}/${group}/devices`;
      const members = await list(devicesRel);
      if (members === undefined) continue;
      groupCount++;
      addDir(devicesRel);
      for (const member of members) await addLink(`${devicesRel}/${member}`);
    }
  }
  if (groupCount === 0) notes.push({ code: "no-iommu-groups" });
  // a group member that is not among the functions: added (or removed) while the capture ran
  for (const key of tree.keys()) {
    const m = /^sys\/kernel\/iommu_groups\/([^/]+)\/devices\/([^/]+)$/.exec(key);
    if (m && !tree.has(`${PCI_DEVICES_DIR}/${m[2]}`) && !notes.some((n) => n.code === "function-vanished" && n.bdf === m[2])) {
      notes.push({ code: "group-member-uncaptured", bdf: m[2]!, group: m[1]! });
    }
  }

  // IOMMU instances: links only (their targets live in sys/devices, outside the subset)
  const instances = await list(IOMMU_CLASS_DIR);
  if (instances !== undefined) {
    addDir(IOMMU_CLASS_DIR);
    for (const name of instances) await addLink(`${IOMMU_CLASS_DIR}/${name}`);
  }

  // each root bus's ACPI host bridge (firmware_node: hid, _UID, namespace path): the kernel
  // scans root buses in ACPI namespace order, which instance numbers PNP0A08:NN follow
  for (const name of (await list(SYS_DEVICES_DIR)) ?? []) {
    if (!ROOT_BUS_DIR.test(name)) continue;
    const target = await addLink(`${SYS_DEVICES_DIR}/${name}/firmware_node`);
    const node = target === undefined ? undefined : firmwareNodeDir(target);
    if (node !== undefined) for (const file of FIRMWARE_NODE_FILES) await addFile(`${node}/${file}`);
  }

  const notesBeforeTables = notes.length;
  let tables = 0;
  for (const table of IOMMU_ACPI_TABLES) {
    if (await addFile(`${ACPI_TABLES_DIR}/${table}`)) tables++;
  }
  const deviceTree = (await addFile(DT_COMPATIBLE)) !== undefined;
  // an unreadable table is already noted; only report true absence (a device-tree machine has none)
  if (tables === 0 && !deviceTree && notes.length === notesBeforeTables) notes.push({ code: "no-iommu-table" });

  for (const rel of PROC_FILES) await addFile(rel);
  if ((await addFile(ARCH_FILE)) === undefined && rootReal === "/") {
    tree.set(ARCH_FILE, { kind: "file", data: new TextEncoder().encode(`${machine()}\n`) });
  }
  // the machine's make and firmware, for grouping hosts by hardware: never serials, UUIDs or asset tags
  for (const name of DMI_FIELDS) await addFile(`${DMI_DIR}/${name}`);
  if (opts.hostname) await addFile(HOSTNAME_PATH);

  // every ancestor folder, as a tar of the same files would list them
  for (const key of [...tree.keys()]) {
    for (let dir = dirname(key); dir !== ""; dir = dirname(dir)) {
      if (tree.has(dir)) break;
      addDir(dir);
    }
  }
  return { tree, notes };
}
