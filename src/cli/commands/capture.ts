import path from "node:path";
import { listDir, type FileTree } from "../../core/fs/file-tree.js";
import { UsageError } from "../errors.js";
import { encodeArchive, writeArchive } from "../sysfs/archive.js";
import { ACPI_TABLES_DIR, collectSysfs, DT_COMPATIBLE, IOMMU_ACPI_TABLES, IOMMU_GROUPS_DIR, PCI_DEVICES_DIR, type CollectOptions } from "../sysfs/collect.js";
import { OutputError, systemErrorText } from "../sysfs/errors.js";
import { describeNotes } from "../sysfs/notes.js";

export interface CaptureOptions {
  /** archive to write, `-` for standard output; default `iommu-atlas-capture-<UTC time>.tar.gz` in the working folder */
  output?: string | undefined;
  /** zero Device Serial Numbers */
  redact?: boolean | undefined;
  /** record the host name (proc/sys/kernel/hostname) */
  hostname?: boolean | undefined;
  /** folder holding sys/ and proc/; default `/` (this host) */
  root?: string | undefined;
  /** where the summary and notes go; default stdout (stderr when the archive goes to stdout) */
  log?: ((line: string) => void) | undefined;
  /** where a failure's one line goes; default stderr */
  error?: ((line: string) => void) | undefined;
  /** writes the archive for `-o -`; default standard output */
  writeStdout?: ((bytes: Uint8Array) => Promise<void>) | undefined;
  /** whether standard output is a terminal (tests) */
  stdoutIsTTY?: boolean | undefined;
  /** tests: runs before each sysfs read (see CollectOptions.beforeRead) */
  beforeRead?: CollectOptions["beforeRead"];
}

/** the archive to standard output (`-o -`), resolved once the pipe has taken it */
async function writeToStdout(bytes: Uint8Array): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(bytes, (err) => (err ? reject(new OutputError("stdout", `cannot write the capture: ${systemErrorText(err)}`)) : resolve()));
  });
}

/** `iommu-atlas-capture-20260102T030405Z.tar.gz` for that instant (UTC) */
export function defaultCaptureName(now: Date): string {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  return `iommu-atlas-capture-${stamp}.tar.gz`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** what a capture holds, for the summary line */
export function countCapture(tree: FileTree): { functions: number; groups: number; tables: string[]; deviceTree: boolean } {
  const functions = listDir(tree, PCI_DEVICES_DIR).filter((n) => tree.get(`${PCI_DEVICES_DIR}/${n}`)?.kind === "symlink");
  const groups = listDir(tree, IOMMU_GROUPS_DIR).filter((n) => tree.get(`${IOMMU_GROUPS_DIR}/${n}`)?.kind === "dir");
  const tables = IOMMU_ACPI_TABLES.filter((t) => tree.get(`${ACPI_TABLES_DIR}/${t}`)?.kind === "file");
  return { functions: functions.length, groups: groups.length, tables, deviceTree: tree.get(DT_COMPATIBLE)?.kind === "file" };
}

/**
 * `iommu-atlas capture`: records this host's (or `root`'s) PCI sysfs subset
 * into a .tar.gz that every other command reads back.
 *
 * Returns the exit code: 0 written, 1 the archive could not be written,
 * 2 nothing to capture (no PCI functions under `root`).
 */
export async function capture(opts: CaptureOptions): Promise<number> {
  const toStdout = opts.output === "-";
  const error = opts.error ?? ((line: string) => void process.stderr.write(`iommu-atlas: ${line}\n`));
  // with the archive on stdout, what would be said there goes to stderr
  const log = opts.log ?? ((line: string) => void (toStdout ? process.stderr : process.stdout).write(`${line}\n`));
  if (toStdout && (opts.stdoutIsTTY ?? process.stdout.isTTY === true)) {
    throw new UsageError("-o -: standard output is a terminal, not a place for a binary archive; redirect it (> FILE) or pass -o FILE");
  }
  const root = opts.root ?? "/";
  const output = opts.output ?? defaultCaptureName(new Date());
  const { tree, notes } = await collectSysfs(root, { redact: opts.redact ?? false, readRegisters: true, hostname: opts.hostname ?? false, ...(opts.beforeRead && { beforeRead: opts.beforeRead }) });
  const counts = countCapture(tree);
  if (counts.functions === 0) {
    error(`nothing captured: no PCI functions under ${path.join(root, PCI_DEVICES_DIR)}; pass --root with the folder that holds sys/ and proc/`);
    return 2;
  }
  try {
    if (toStdout) await (opts.writeStdout ?? writeToStdout)(encodeArchive(tree));
    else await writeArchive(tree, output);
  } catch (err) {
    if (!(err instanceof OutputError)) throw err;
    error(err.message);
    return 1;
  }
  const tables = `${counts.tables.length > 0 ? `ACPI ${counts.tables.join(", ")}` : "no IOMMU ACPI table"}${counts.deviceTree ? ", device tree" : ""}`;
  log(`captured ${plural(counts.functions, "PCI function")}, ${plural(counts.groups, "IOMMU group")}, ${tables} into ${toStdout ? "stdout" : output}`);
  for (const line of describeNotes(notes)) log(`note: ${line}`);
  return 0;
}
