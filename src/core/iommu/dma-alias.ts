import {
  PCI_EXP_TYPE_DOWNSTREAM,
  PCI_EXP_TYPE_PCIE_BRIDGE,
  PCI_EXP_TYPE_PCI_BRIDGE,
  PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM,
} from "../regs/express.js";
import { busKey, devId } from "../topology/address.js";
import { MISSING, NONE, denseTopology } from "../topology/dense.js";
import type { DenseTopology } from "../topology/dense.js";
import type { PciFunction, Topology } from "../topology/model.js";

/** alias-relevant properties quirks (and the AMD IVRS table) set on a function */
export interface AliasProps {
  /** extra devfns on the function's own bus (dma_alias_mask), ascending */
  readonly aliasDevfns: readonly number[];
  /** what put each devfn in the mask: a quirk row id or "ivrs" */
  readonly aliasCauses: ReadonlyMap<number, string>;
  /** PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS */
  readonly pcieBridgeAlias: boolean;
  /** PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT: the alias walk stops at this bridge */
  readonly xlateRoot: boolean;
}

export const NO_ALIAS_PROPS: AliasProps = { aliasDevfns: [], aliasCauses: new Map(), pcieBridgeAlias: false, xlateRoot: false };

export type PropsLookup = (bdf: string) => AliasProps;

/** one requester ID a function's DMA may carry, in walk order */
export type DmaAlias =
  | { readonly rid: number; readonly cause: "own" }
  /** the function's DMA is really issued by another device (behind an Intel VMD: the VMD endpoint), whose RID this is */
  | { readonly rid: number; readonly cause: "real-dma-dev"; readonly via: string }
  | { readonly rid: number; readonly cause: "quirk"; readonly source: string }
  | { readonly rid: number; readonly cause: "bridge"; readonly via: string; readonly rule: BridgeAliasRule };

/** which bridge rule produced a bridge alias (kernel-spec §2.1 step 3) */
export type BridgeAliasRule = "pcie-to-pci" | "pci-to-pcie" | "pci-bridge" | "pcie-bridge-alias";

/**
 * pci_for_each_dma_alias (kernel-spec §2): the own RID, the mask devfns on
 * the same bus, then one alias per alias-producing bridge upward. The
 * callback gets the device the kernel passes (the function itself for the
 * first two steps, the bridge for bridge aliases) and may stop the walk by
 * returning a value other than undefined.
 */
export function forEachDmaAlias<T>(
  topology: Topology,
  props: PropsLookup,
  fn: PciFunction,
  cb: (pdev: PciFunction, alias: DmaAlias) => T | undefined,
): T | undefined {
  const d = denseTopology(topology);
  return walkDmaAliases(d, (_i, f) => props(f.bdf), fn, d.index(fn.bdf) ?? NONE, (p, _i, alias) => cb(p, alias));
}

/** alias props by function: its index in the dense topology (NONE when outside it) and the function */
export type PropsAt = (index: number, fn: PciFunction) => AliasProps;

/**
 * forEachDmaAlias over the dense topology, for the engine's inner loop:
 * `fn` is the function at `index` (NONE when the model does not hold it),
 * and the callback gets each function's index beside it.
 */
export function walkDmaAliases<T>(
  d: DenseTopology,
  props: PropsAt,
  fn: PciFunction,
  index: number,
  cb: (pdev: PciFunction, index: number, alias: DmaAlias) => T | undefined,
): T | undefined {
  // step 0 (pci_real_dma_dev): a device behind an Intel VMD is the VMD endpoint for all that follows
  const realIndex = fn.realDmaDev !== undefined ? d.index(fn.realDmaDev) : undefined;
  const real = realIndex !== undefined ? d.fns[realIndex] : undefined;
  if (real) {
    fn = real;
    index = realIndex!;
  }
  let r = cb(fn, index, real ? { rid: devId(fn.bus, fn.devfn), cause: "real-dma-dev", via: real.bdf } : { rid: devId(fn.bus, fn.devfn), cause: "own" });
  if (r !== undefined) return r;
  const own = props(index, fn);
  for (const devfn of own.aliasDevfns) {
    r = cb(fn, index, { rid: devId(fn.bus, devfn), cause: "quirk", source: own.aliasCauses.get(devfn) ?? "quirk" });
    if (r !== undefined) return r;
  }
  let b = index >= 0 ? d.busOf[index]! : (d.busIndexOf.get(busKey(fn.segment, fn.bus)) ?? NONE);
  for (let guard = 0; b >= 0 && d.buses[b]!.parent !== undefined && guard < 512; guard++) {
    const bus = d.buses[b]!;
    const self = d.busSelf[b]!;
    if (self === NONE) {
      b = d.busParent[b]!; // virtual (VF) bus
      continue;
    }
    if (self === MISSING) break;
    const br = d.fns[self]!;
    const bp = props(self, br);
    if (bp.xlateRoot) return undefined;
    let alias: DmaAlias | undefined;
    if (br.isPcie) {
      switch (br.pcieType) {
        case PCI_EXP_TYPE_ROOT_PORT:
        case PCI_EXP_TYPE_UPSTREAM:
        case PCI_EXP_TYPE_DOWNSTREAM:
          break;
        case PCI_EXP_TYPE_PCI_BRIDGE:
          // PCIe-to-PCI/PCI-X Bridge spec 1.0 §2.3: the bridge may take ownership as (secondary, 00.0)
          alias = { rid: devId(bus.number, 0), cause: "bridge", via: br.bdf, rule: "pcie-to-pci" };
          break;
        case PCI_EXP_TYPE_PCIE_BRIDGE:
          alias = { rid: devId(br.bus, br.devfn), cause: "bridge", via: br.bdf, rule: "pci-to-pcie" };
          break;
        default:
          break;
      }
    } else if (br.config !== undefined && !br.config.capabilitiesKnown) {
      // capabilities not captured: taken as a PCIe port (no alias); its unknown ACS is what the groups then depend on
    } else if (bp.pcieBridgeAlias) {
      alias = { rid: devId(bus.number, 0), cause: "bridge", via: br.bdf, rule: "pcie-bridge-alias" };
    } else {
      alias = { rid: devId(br.bus, br.devfn), cause: "bridge", via: br.bdf, rule: "pci-bridge" };
    }
    if (alias) {
      r = cb(br, self, alias);
      if (r !== undefined) return r;
    }
    b = d.busParent[b]!;
  }
  return undefined;
}

/** every alias of a function in walk order (duplicates kept, as the kernel's callback sees them) */
export function dmaAliases(topology: Topology, props: PropsLookup, fn: PciFunction): DmaAlias[] {
  const out: DmaAlias[] = [];
  forEachDmaAlias(topology, props, fn, (_p, a) => {
    out.push(a);
    return undefined;
  });
  return out;
}

/** pci_devs_are_dma_aliases for two functions on one bus */
export function devsAreDmaAliases(props: PropsLookup, a: PciFunction, b: PciFunction): boolean {
  return props(a.bdf).aliasDevfns.includes(b.devfn) || props(b.bdf).aliasDevfns.includes(a.devfn);
}
