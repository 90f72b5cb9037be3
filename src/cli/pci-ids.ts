/**
 * Finds pci.ids: the system's copy (what lspci on this machine prints
 * names from), else the copy shipped in data/. IOMMU_ATLAS_PCI_IDS names a
 * file to use instead, `bundled` for the shipped copy, `none` for no names.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { PciIds } from "../core/pci-ids/pci-ids.js";

export const SYSTEM_PCI_IDS = ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids"];
export const BUNDLED_PCI_IDS = fileURLToPath(new URL("../../data/pci.ids.gz", import.meta.url));

async function readIds(file: string): Promise<PciIds | undefined> {
  try {
    const bytes = await readFile(file);
    const text = (file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
    const ids = PciIds.parse(text);
    return ids.hasVendors ? ids : undefined;
  } catch {
    return undefined;
  }
}

let cached: Promise<PciIds | undefined> | undefined;

/** the database, read once per process; undefined when none can be read (names are then left out) */
export function loadPciIds(): Promise<PciIds | undefined> {
  cached ??= (async () => {
    const chosen = process.env["IOMMU_ATLAS_PCI_IDS"];
    if (chosen === "none") return undefined;
    if (chosen === "bundled") return readIds(BUNDLED_PCI_IDS);
    if (chosen) return readIds(chosen);
    for (const f of SYSTEM_PCI_IDS) {
      const ids = await readIds(f);
      if (ids) return ids;
    }
    return readIds(BUNDLED_PCI_IDS);
  })();
  return cached;
}
