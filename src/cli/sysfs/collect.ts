import { readdir, readFile, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { dirname, type FileTree, type FileTreeEntry } from "../../core/fs/file-tree.js";
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

export interface CollectOptions {
  /** zero Device Serial Numbers in config space */
  readonly redact?: boolean;
}

/**
 * Reads the sysfs/procfs subset iommu-atlas needs from `root` (the folder
 * holding `sys/` and `proc/`; `/` for the live host) into a FileTree:
 * every function behind `sys/bus/pci/devices` (its files and `driver` /
 * `iommu_group` links), the IOMMU group links, the DMAR/IVRS ACPI tables,
 * `proc/cmdline` and `proc/sys/kernel/osrelease`. Symlinks stay symlinks with
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
