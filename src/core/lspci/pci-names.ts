/**
 * lspci without `-n` prints names, not ids (`Intel Corporation Sunrise
 * Point-LP PCI Express Root Port #1`). Quirk rows are keyed by id, so the
 * names are mapped back through the pci.ids database; a name several ids
 * share takes the lowest and says so, a name the database lacks stays
 * unknown (vendor/device ffff).
 */
import type { NameLookup, PciIds } from "../pci-ids/pci-ids.js";
import { formatBdf } from "../topology/address.js";
import type { Dump } from "./scan.js";
import type { LspciWarning } from "./warnings.js";

const id4 = (n: number): string => n.toString(16).padStart(4, "0");

/** fills vendor/device of records that printed names only; returns what to tell the user */
export function idsFromNames(dumps: readonly Dump[], ids: PciIds): LspciWarning[] {
  const warnings: LspciWarning[] = [];
  let resolved = 0;
  const unknown: { bdf: string; name: string }[] = [];
  const cache = new Map<string, NameLookup>();
  for (const d of dumps) {
    // tree nodes (`-tv`): names only, never wrapped
    for (const n of d.trees) {
      if (n.vendor !== undefined || n.vendorName === undefined) continue;
      const found = ids.lookupByName(n.vendorName);
      if (found.kind === "unknown") {
        unknown.push({ bdf: formatBdf(n.segment, n.bus, n.devfn), name: n.vendorName });
        continue;
      }
      const match = found.kind === "unique" ? found.match : [...found.matches].sort((a, b) => a.vendor - b.vendor || a.device - b.device)[0]!;
      n.vendor = match.vendor;
      n.device = match.device;
      resolved++;
    }
    for (const r of d.records) {
      // a class name the built-in table lacks (no `[cccc]`)
      if (r.classBase === undefined && r.classText !== undefined) {
        const cls = ids.classByName(r.classText);
        if (cls !== undefined) {
          r.classBase = cls;
          r.classByName = true;
        }
      }
      if (r.vendor !== undefined || r.vendorName === undefined) continue;
      const lookup = (name: string): NameLookup => {
        const key = `${name}\u0000${r.deviceName ?? ""}`;
        let hit = cache.get(key);
        if (!hit) {
          hit = ids.lookupByName(name, r.deviceName);
          cache.set(key, hit);
        }
        return hit;
      };
      // a wrapped device line: try it rejoined with the space the wrap ate, then as cut
      let found = lookup(r.vendorName);
      if (r.vendorNameSpaced !== undefined) {
        const spaced = lookup(r.vendorNameSpaced);
        if (spaced.kind === "unique" || spaced.kind === "ambiguous" || (spaced.kind === "approximate" && found.kind !== "unique" && found.kind !== "ambiguous")) found = spaced;
      }
      const bdf = formatBdf(r.segment, r.bus ?? 0, r.devfn);
      const printed = found === cache.get(`${r.vendorNameSpaced}\u0000${r.deviceName ?? ""}`) && r.vendorNameSpaced !== undefined ? r.vendorNameSpaced : r.vendorName;
      const name = r.deviceName === undefined ? printed : `${printed} ${r.deviceName}`;
      if (found.kind === "unknown") {
        unknown.push({ bdf, name });
        continue;
      }
      const match = found.kind === "unique" ? found.match : [...found.matches].sort((a, b) => a.vendor - b.vendor || a.device - b.device)[0]!;
      r.vendor = match.vendor;
      r.device = match.device;
      resolved++;
      const candidates = found.kind === "unique" ? [] : found.matches.map((m) => `${id4(m.vendor)}:${id4(m.device)}`);
      const chosen = `${id4(match.vendor)}:${id4(match.device)}`;
      if (found.kind === "ambiguous") warnings.push({ code: "ids-name-ambiguous", bdf, line: r.line, name, candidates, chosen });
      if (found.kind === "approximate") {
        const closest = found.names[found.matches.indexOf(match)] ?? found.names[0]!;
        warnings.push({ code: "ids-name-approximate", bdf, line: r.line, name, closest, candidates, chosen, version: ids.version });
      }
    }
  }
  if (resolved > 0) warnings.unshift({ code: "ids-from-names", functions: resolved, version: ids.version });
  if (unknown.length > 0) warnings.push({ code: "ids-name-unknown", functions: unknown.length, first: unknown[0]!.bdf, name: unknown[0]!.name, version: ids.version });
  return warnings;
}
