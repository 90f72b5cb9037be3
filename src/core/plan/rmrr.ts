/**
 * RMRRs: memory the firmware keeps DMA-ing to through the IOMMU (USB legacy
 * emulation, a BMC, a framebuffer), and how the kernel treats a device with
 * one when VFIO wants it (kernel-spec §8.2, hw-models.md §2.5).
 */
import { resolveDmarScope } from "../acpi/claim.js";
import { IORT_RMR_REMAP_PERMITTED, iortSmmus } from "../acpi/index.js";
import type { IortRmr, IortTable } from "../acpi/index.js";
import { forEachDmaAlias } from "../iommu/dma-alias.js";
import type { DmarTable } from "../acpi/dmar.js";
import type { Prediction } from "../iommu/predict.js";
import { topologyResolver } from "../iommu/units.js";
import { atLeast } from "../kernel/version.js";
import type { KernelVersion } from "../kernel/version.js";
import { formatBdf } from "../topology/address.js";
import type { PciFunction, Topology } from "../topology/model.js";
import type { RmrrOutcome, RmrrRegion } from "./findings.js";

export interface RmrrMatch {
  /** the function a scope names: the device itself or a bridge above it */
  readonly via: string;
  readonly regions: readonly RmrrRegion[];
  /** arm64: the regions come from IORT RMR nodes naming one of the function's StreamIDs */
  readonly rmr?: { readonly remapPermitted: boolean } | undefined;
}

interface Target {
  readonly segment: number;
  readonly bdf: string;
  readonly range: { readonly secondary: number; readonly subordinate: number } | undefined;
  readonly region: RmrrRegion;
}

function targetsOf(dmar: DmarTable, topology: Topology): Target[] {
  const resolver = topologyResolver(topology);
  const out: Target[] = [];
  for (const s of dmar.structures) {
    if (s.kind !== "rmrr") continue;
    for (const scope of s.scopes) {
      const at = resolveDmarScope(scope, s.segment, resolver);
      if (!at) continue;
      out.push({
        segment: s.segment,
        bdf: formatBdf(s.segment, at.bus, at.devfn),
        range: resolver.bridgeRange(s.segment, at.bus, at.devfn),
        region: { base: s.base, limit: s.limit },
      });
    }
  }
  return out;
}

/**
 * The RMRRs of each function: every RMRR whose scope names the function or
 * a bridge whose bus range holds the function's bus (is_downstream_to_pci_bridge).
 */
export function rmrrLookup(p: Prediction): (fn: PciFunction) => RmrrMatch | undefined {
  if (p.arm64 && p.layout.iort) return rmrLookup(p, p.layout.iort);
  const targets = p.layout.dmar ? targetsOf(p.layout.dmar, p.topology) : [];
  return (fn) => {
    const hits = targets.filter(
      (t) => t.segment === fn.segment && (t.bdf === fn.bdf || (t.range !== undefined && t.range.secondary <= fn.bus && fn.bus <= t.range.subordinate)),
    );
    if (hits.length === 0) return undefined;
    const regions: RmrrRegion[] = [];
    for (const h of hits) if (!regions.some((r) => r.base === h.region.base && r.limit === h.region.limit)) regions.push(h.region);
    return { via: (hits.find((h) => h.bdf === fn.bdf) ?? hits[0]!).bdf, regions };
  };
}

/**
 * arm64: IORT RMR nodes (kernel-spec §8.2 by analogy; Linux iort_get_rmrs):
 * each ID mapping of an RMR node names StreamIDs of one SMMU; a function
 * whose StreamIDs (own requester ID and DMA aliases through the root
 * complex's mapping) include one gets the node's memory ranges as direct
 * regions, relaxable when the node permits remapping (flags bit 0).
 */
function rmrLookup(p: Prediction, iort: IortTable): (fn: PciFunction) => RmrrMatch | undefined {
  const smmuName = new Map(iortSmmus(iort).map((n, i) => [n.offset, p.arm64!.streams.units[i]]));
  const rmrs = iort.nodes.filter((n): n is IortRmr => n.kind === "rmr" && n.ranges.length > 0);
  return (fn) => {
    const sids: { unit: string; sid: number }[] = [];
    forEachDmaAlias(p.topology, p.props, fn, (_q, alias) => {
      const t = p.arm64!.streams.sidOf(fn.segment, alias.rid);
      if (t) sids.push(t);
      return undefined;
    });
    const regions: RmrrRegion[] = [];
    let remapPermitted = true;
    for (const n of rmrs) {
      const hit = n.mappings.some((m) => {
        const unit = smmuName.get(m.outputRef);
        const last = m.single ? m.outputBase : m.outputBase + m.idCount;
        return sids.some((x) => x.unit === unit && x.sid >= m.outputBase && x.sid <= last);
      });
      if (!hit) continue;
      remapPermitted &&= (n.flags & IORT_RMR_REMAP_PERMITTED) !== 0;
      for (const r of n.ranges) {
        const region = { base: r.base, limit: r.base + r.length - 1n };
        if (!regions.some((x) => x.base === region.base && x.limit === region.limit)) regions.push(region);
      }
    }
    return regions.length === 0 ? undefined : { via: fn.bdf, regions, rmr: { remapPermitted } };
  };
}

/**
 * What the kernel does with an IORT RMR when VFIO takes the device: a
 * relaxable one (remapping permitted) is dropped; a direct one makes the
 * IOMMU core refuse (≈6.3, the same require_direct check as RMRRs); before,
 * nothing refused it.
 */
export function rmrOutcome(kernel: KernelVersion, remapPermitted: boolean): RmrrOutcome {
  if (remapPermitted) return "relaxed";
  return atLeast(kernel, 6, 3) ? "refused-core" : "not-enforced";
}

/** USB (class 0x0c03xx) and graphics (base class 0x03) get "direct-relaxable" regions */
export function rmrrRelaxable(fn: PciFunction): "usb" | "graphics" | undefined {
  if (fn.classCode >> 8 === 0x0c03) return "usb";
  if (fn.classCode >> 16 === 0x03) return "graphics";
  return undefined;
}

/**
 * What the kernel does when VFIO takes a device with an RMRR: USB was exempt
 * from the first refusal (≈3.17), graphics since ≈5.3; from ≈6.3 the IOMMU
 * core refuses instead of the Intel driver.
 */
export function rmrrOutcome(kernel: KernelVersion, relaxable: "usb" | "graphics" | undefined): RmrrOutcome {
  if (!atLeast(kernel, 3, 17)) return "not-enforced";
  if (relaxable === "usb" || (relaxable === "graphics" && atLeast(kernel, 5, 3))) return "relaxed";
  return atLeast(kernel, 6, 3) ? "refused-core" : "refused-intel";
}
