import { open, readdir, readFile, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { asciiText, dirname, type FileTree, type FileTreeEntry } from "../../core/fs/file-tree.js";
import {
  EXCERPT_FILE,
  EXCERPT_SOURCE_FILE,
  NTB_INFO_RANGE,
  encodeExcerpt,
  partitionsToCapture,
  tableRange,
  tableSizeRange,
} from "../../core/switchtec/excerpt.js";
import type { GasRange, GasRegion } from "../../core/switchtec/gas-image.js";
import { errnoCode } from "./errors.js";
import type { CaptureNote } from "./notes.js";
import { zeroDeviceSerial } from "./redact.js";

/** where the kernel lists every PCI function */
export const PCI_DEVICES_DIR = "sys/bus/pci/devices";
/** one folder per IOMMU group, each with a devices/ folder of links */
export const IOMMU_GROUPS_DIR = "sys/kernel/iommu_groups";
/** the IOMMU ACPI tables (Intel VT-d, AMD-Vi) */
export const IOMMU_ACPI_TABLES = ["DMAR", "IVRS"] as const;
export const ACPI_TABLES_DIR = "sys/firmware/acpi/tables";

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
/** never the host name: only these two proc files */
const PROC_FILES = ["proc/cmdline", "proc/sys/kernel/osrelease"] as const;

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

/**
 * Reads the BAR0 ranges the Switchtec DMA-alias quirk reads from `file`
 * (a function's `resource0`) with plain positioned reads: never mmap, never
 * a write. Returns the `resource0.excerpt` bytes (format in
 * core/switchtec/excerpt.ts); a read that stops at the end of the file
 * gives a shorter record. Throws the fs error when the file cannot be
 * opened or read.
 */
export async function readNtbExcerpt(file: string): Promise<Uint8Array> {
  const fh = await open(file, "r");
  try {
    const read = async (range: GasRange): Promise<GasRegion> => {
      const bytes = new Uint8Array(range.size);
      let got = 0;
      while (got < range.size) {
        const { bytesRead } = await fh.read(bytes, got, range.size - got, range.offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return { offset: range.offset, bytes: bytes.subarray(0, got) };
    };
    const info = await read(NTB_INFO_RANGE);
    const records = [info];
    for (const p of partitionsToCapture(info.bytes)) {
      const size = await read(tableSizeRange(p));
      records.push(size);
      if (size.bytes.byteLength < 4) continue;
      const table = tableRange(p, size.bytes[0]! | (size.bytes[1]! << 8));
      if (table) records.push(await read(table));
    }
    return encodeExcerpt(records);
  } finally {
    await fh.close();
  }
}

export interface CollectOptions {
  /** zero Device Serial Numbers in config space */
  readonly redact?: boolean;
}

/**
 * Reads the sysfs/procfs subset iommu-atlas needs from `root` (the folder
 * holding `sys/` and `proc/`; `/` for the live host) into a FileTree:
 * every function behind `sys/bus/pci/devices` (its files and `driver` /
 * `iommu_group` links), the IOMMU group links, the DMAR/IVRS ACPI tables,
 * `proc/cmdline` and `proc/sys/kernel/osrelease`, and for Switchtec NT
 * endpoints a `resource0.excerpt` of the BAR0 registers the DMA-alias quirk
 * reads (root only). Symlinks stay symlinks with
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
    try {
      tree.set(`${devRel}/${EXCERPT_FILE}`, { kind: "file", data: await readNtbExcerpt(abs(`${devRel}/${EXCERPT_SOURCE_FILE}`)) });
    } catch (err) {
      notes.push({ code: "ntb-registers-unread", bdf, reason: errnoCode(err) ?? "EIO" });
    }
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
      const data = await addFile(`${devRel}/${name}`);
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
    await addNtbExcerpt(devRel, bdf);
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

  const notesBeforeTables = notes.length;
  let tables = 0;
  for (const table of IOMMU_ACPI_TABLES) {
    if (await addFile(`${ACPI_TABLES_DIR}/${table}`)) tables++;
  }
  // an unreadable table is already noted; only report true absence
  if (tables === 0 && notes.length === notesBeforeTables) notes.push({ code: "no-iommu-table" });

  for (const rel of PROC_FILES) await addFile(rel);

  // every ancestor folder, as a tar of the same files would list them
  for (const key of [...tree.keys()]) {
    for (let dir = dirname(key); dir !== ""; dir = dirname(dir)) {
      if (tree.has(dir)) break;
      addDir(dir);
    }
  }
  return { tree, notes };
}
