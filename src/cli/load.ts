import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import type { Snapshot } from "../core/sources/snapshot.js";
import { decodeArchive, readSource } from "./sysfs/archive.js";
import { collectSysfs } from "./sysfs/collect.js";
import { SourceError } from "./sysfs/errors.js";

export interface Loaded {
  readonly snapshot: Snapshot;
  /** how to name the source in output: a path, "this host" or the bundled example */
  readonly label: string;
}

/** the real capture bundled for hosts without IOMMU groups */
export const BUNDLED_EXAMPLE = fileURLToPath(new URL("../../examples/captures/pcie-pci-bridge-alias.sysfs.tar.gz", import.meta.url));

/** reads the live host's sysfs */
export async function loadLive(root = "/"): Promise<Loaded> {
  const { tree } = await collectSysfs(root);
  return { snapshot: snapshotFromSysfs(tree), label: root === "/" ? "this host" : root };
}

/**
 * Reads SOURCE, telling the kind from the content: a sysfs folder, a
 * capture archive (.tar/.tar.gz); no SOURCE means the live host.
 */
export async function loadSource(source: string | undefined): Promise<Loaded> {
  if (source === undefined) return loadLive();
  const st = await stat(source).catch((err: unknown) => {
    throw new SourceError(source, err instanceof Error && "code" in err && err.code === "ENOENT" ? "no such file or folder" : String(err));
  });
  if (st.isDirectory()) return { snapshot: snapshotFromSysfs(await readSource(source)), label: source };
  const bytes = new Uint8Array(await readFile(source));
  return { snapshot: snapshotFromSysfs(decodeArchive(bytes, source)), label: source };
}
