/**
 * Which machine a capture comes from, for grouping hosts by hardware: the
 * DMI make, board and firmware files and the host name (only when the
 * capture was asked to record it).
 */
import { readText } from "../fs/file-tree.js";
import type { FileTree } from "../fs/file-tree.js";

/** the DMI identity files a capture records (sys/class/dmi/id/<name>), in table order */
export const DMI_FIELDS = ["sys_vendor", "product_name", "board_vendor", "board_name", "bios_vendor", "bios_version", "bios_date"] as const;
export type DmiField = (typeof DMI_FIELDS)[number];
export const DMI_DIR = "sys/class/dmi/id";
export const HOSTNAME_PATH = "proc/sys/kernel/hostname";
export const CMDLINE_PATH = "proc/cmdline";
export const OSRELEASE_PATH = "proc/sys/kernel/osrelease";

/**
 * Paths that say which host and how it was booted, not what its hardware
 * is: a fleet keeps them per host and the rest of the tree once per
 * distinct machine.
 */
export const HOST_ONLY_PATHS: readonly string[] = [...DMI_FIELDS.map((f) => `${DMI_DIR}/${f}`), HOSTNAME_PATH, CMDLINE_PATH, OSRELEASE_PATH];

export interface HostIdentity {
  readonly dmi: Readonly<Record<DmiField, string | null>>;
  readonly hostname: string | null;
}

/** the DMI files and the host name of a capture tree; null for each one it lacks (older captures) */
export function hostIdentity(tree: FileTree): HostIdentity {
  const dmi = Object.fromEntries(DMI_FIELDS.map((f) => [f, clean(readText(tree, `${DMI_DIR}/${f}`))])) as Record<DmiField, string | null>;
  return { dmi, hostname: clean(readText(tree, HOSTNAME_PATH)) };
}

function clean(text: string | undefined): string | null {
  const t = text?.trim();
  return t ? t : null;
}

