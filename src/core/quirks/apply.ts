import type { KernelVersion } from "../kernel/version.js";
import { PCI_EXP_TYPE_PCI_BRIDGE } from "../regs/express.js";
import { PCI_HEADER_TYPE_BRIDGE } from "../regs/header.js";
import { devfnOf, formatDevfn, funcOf, slotOf } from "../topology/address.js";
import { NONE, denseTopology } from "../topology/dense.js";
import type { PciFunction, Topology } from "../topology/model.js";
import { ALIAS_QUIRK_ROWS } from "./alias-table.js";
import { matchesRow, onRootBus, rowActive, rowsByVendor } from "./match.js";
import type { AliasEffect, QuirkRow } from "./row.js";

/** what the alias quirks did to one function: the properties the alias walk reads */
export interface QuirkEffects {
  /** dma_alias_mask: sorted unique devfns on the function's own bus */
  readonly aliasDevfns: readonly number[];
  /** which row added each devfn (the first, when several did) */
  readonly aliasCauses: ReadonlyMap<number, string>;
  /** PCIE_BRIDGE_ALIAS: alias downstream traffic to (secondary bus, 00.0) */
  readonly pcieBridgeAlias: boolean;
  /** BRIDGE_XLATE_ROOT: the alias walk stops at this bridge */
  readonly xlateRoot: boolean;
  /** Switchtec NT function: proxy aliases need the BAR0 register image */
  readonly switchtecNt: boolean;
  /** rows that changed something, in table order */
  readonly fired: readonly { readonly id: string; readonly effect: string }[];
}

/** options for applyAliasQuirks */
export interface ApplyAliasOptions {
  /** the running kernel; undefined = current mainline (rows with a known `since`, no `until`) */
  readonly kernel?: KernelVersion | undefined;
  /** also fire rows whose `since` is "unknown" (proposals) */
  readonly includeProposed?: boolean | undefined;
  /** replaces the built-in table (tests, experiments) */
  readonly rows?: readonly QuirkRow<AliasEffect>[] | undefined;
}

const MAX_NR_DEVFNS = 256;

const SWITCHTEC_NOTE = "switchtec NT function: proxy aliases need the BAR0 register image";

function aliasList(devfns: readonly number[]): string {
  return devfns.length > 8
    ? `alias ${devfns.length} devfns ${formatDevfn(devfns[0]!)}…${formatDevfn(devfns[devfns.length - 1]!)}`
    : `alias ${devfns.map(formatDevfn).join(", ")}`;
}

// §6: a PCIe-to-PCI bridge hiding its PCIe capability, below a PCIe bridge that is not one
function pcieBridgeAliasHolds(topology: Topology, fn: PciFunction): boolean {
  if (onRootBus(topology, fn) || fn.headerType !== PCI_HEADER_TYPE_BRIDGE || fn.isPcie) return false;
  const up = fn.upstream === undefined ? undefined : topology.functions.get(fn.upstream);
  return up !== undefined && up.isPcie && up.pcieType !== PCI_EXP_TYPE_PCI_BRIDGE;
}

interface Acc {
  /** devfn → the row that added it first */
  aliases: Map<number, string>;
  row: string;
  pcieBridgeAlias: boolean;
  xlateRoot: boolean;
  switchtecNt: boolean;
  fired: { id: string; effect: string }[];
}

// applies one effect; returns its description, or undefined when it did nothing
function applyEffect(effect: AliasEffect, fn: PciFunction, topology: Topology, acc: Acc): string | undefined {
  switch (effect.kind) {
    case "alias-function": {
      if (funcOf(fn.devfn) === effect.fn) return undefined;
      const devfn = devfnOf(slotOf(fn.devfn), effect.fn);
      if (!acc.aliases.has(devfn)) acc.aliases.set(devfn, acc.row);
      return aliasList([devfn]);
    }
    case "alias-devfn":
      for (const d of effect.devfns) if (!acc.aliases.has(d & 0xff)) acc.aliases.set(d & 0xff, acc.row);
      return aliasList(effect.devfns);
    case "alias-range": {
      const count = Math.max(0, Math.min(effect.count, MAX_NR_DEVFNS - effect.from));
      const devfns = Array.from({ length: count }, (_, i) => effect.from + i);
      for (const d of devfns) if (!acc.aliases.has(d)) acc.aliases.set(d, acc.row);
      return count === 0 ? undefined : aliasList(devfns);
    }
    case "flag":
      if (effect.flag === "xlate-root") {
        acc.xlateRoot = true;
        return "flag xlate-root";
      }
      if (!pcieBridgeAliasHolds(topology, fn)) return undefined;
      acc.pcieBridgeAlias = true;
      return "flag pcie-bridge-alias";
    case "switchtec-proxy":
      acc.switchtecNt = true;
      return SWITCHTEC_NOTE;
  }
}

/**
 * Runs the DMA-alias quirk rows (header and final passes) over every
 * function the kernel's scan finds, gating rows by kernel release. Returns
 * the effects by BDF, in scan order, only for functions where a row changed
 * something. Switchtec rows only mark the function; its proxy aliases come
 * from the BAR0 decoder.
 */
export function applyAliasQuirks(topology: Topology, opts: ApplyAliasOptions = {}): ReadonlyMap<string, QuirkEffects> {
  const rows = (opts.rows ?? ALIAS_QUIRK_ROWS).filter((r) =>
    rowActive(r, { kernel: opts.kernel, includeProposed: opts.includeProposed }),
  );
  const rowsFor = rowsByVendor(rows);
  const out = new Map<string, QuirkEffects>();
  const fixup = (bdf: string, fn: PciFunction): void => {
    let acc: Acc | undefined;
    for (const row of rowsFor(fn.vendor)) {
      if (!matchesRow(fn, row)) continue;
      acc ??= { aliases: new Map(), row: "", pcieBridgeAlias: false, xlateRoot: false, switchtecNt: false, fired: [] };
      acc.row = row.id;
      const effect = applyEffect(row.effect, fn, topology, acc);
      if (effect !== undefined) acc.fired.push({ id: row.id, effect });
    }
    if (acc === undefined || acc.fired.length === 0) return;
    out.set(bdf, {
      aliasDevfns: [...acc.aliases.keys()].sort((a, b) => a - b),
      aliasCauses: acc.aliases,
      pcieBridgeAlias: acc.pcieBridgeAlias,
      xlateRoot: acc.xlateRoot,
      switchtecNt: acc.switchtecNt,
      fired: acc.fired,
    });
  };
  // scan order first, then scanned functions the scan order misses (on buses no root reaches)
  const { fns, scanIndex, scanPos } = denseTopology(topology);
  for (const i of scanIndex) {
    const fn = fns[i]!;
    // functions the scan never finds get no fixups
    if (fn.scanned) fixup(fn.bdf, fn);
  }
  for (let i = 0; i < fns.length; i++) if (scanPos[i] === NONE && fns[i]!.scanned) fixup(fns[i]!.bdf, fns[i]!);
  return out;
}
