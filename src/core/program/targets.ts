/**
 * Which requester IDs Linux programs when a function is attached to a
 * domain (kernel-spec.md §7, hw-models.md §5.6): the policy, apart from the
 * hardware tables it writes.
 */
import type { DmaAlias } from "../iommu/dma-alias.js";
import { atLeast } from "../kernel/version.js";
import type { KernelVersion } from "../kernel/version.js";
import type { IommuArch } from "./faults.js";
import type { VtdMode } from "./vtd.js";

/** why a requester ID gets an entry: a step of the DMA alias walk, or the AMD IVRS alias table */
export type EntryCause = DmaAlias | { readonly rid: number; readonly cause: "ivrs"; readonly devid: number };

/**
 * - every-alias: VT-d legacy (and scalable before ≈6.10): a context entry for every callback RID
 * - own-and-mask: VT-d scalable ≈6.10+: own RID and dma_alias_mask RIDs only, bridge aliases skipped
 * - amd-clone: the device's DTE, cloned to the IVRS alias and to every walk alias
 * - stream-ids: SMMUv3: every walk alias becomes a StreamID of the master
 */
export type AliasPolicy = "every-alias" | "own-and-mask" | "amd-clone" | "stream-ids";

export function aliasPolicy(arch: IommuArch, mode: VtdMode, kernel: KernelVersion): AliasPolicy {
  switch (arch) {
    case "vtd":
      // v6.10: scalable-mode context entries are set up at probe for the device itself only
      return mode === "scalable" && atLeast(kernel, 6, 10) ? "own-and-mask" : "every-alias";
    case "amd":
      return "amd-clone";
    case "smmu":
      return "stream-ids";
  }
}

/** one requester ID to program and every reason it is needed, in the order Linux first meets it */
export interface EntryTarget {
  readonly rid: number;
  readonly causes: readonly EntryCause[];
}

export interface EntryTargets {
  readonly targets: readonly EntryTarget[];
  /** walk aliases the policy leaves without an entry (bridge aliases in scalable mode) */
  readonly skipped: readonly DmaAlias[];
}

/**
 * The requester IDs a function's attach programs, from its DMA aliases in
 * walk order (own RID first). `ivrsAlias` is alias_table[own RID] for AMD;
 * equal to the own RID when the IVRS names none.
 */
export function entryTargets(policy: AliasPolicy, aliases: readonly DmaAlias[], ivrsAlias?: number): EntryTargets {
  // a device behind VMD has no entries of its own: its DMA carries the VMD endpoint's RID (kernel-spec §7.1)
  if (aliases[0]?.cause === "real-dma-dev") return { targets: [], skipped: [...aliases] };
  const order: number[] = [];
  const causes = new Map<number, EntryCause[]>();
  const add = (c: EntryCause): void => {
    const list = causes.get(c.rid);
    if (list) list.push(c);
    else {
      order.push(c.rid);
      causes.set(c.rid, [c]);
    }
  };
  const skipped: DmaAlias[] = [];
  const own = aliases.find((a) => a.cause === "own");
  aliases.forEach((a, i) => {
    if (policy === "own-and-mask" && a.cause === "bridge") skipped.push(a);
    else add(a);
    // clone_aliases: the IVRS alias comes right after the device's own DTE
    if (i === 0 && policy === "amd-clone" && own && ivrsAlias !== undefined && ivrsAlias !== own.rid) {
      add({ rid: ivrsAlias, cause: "ivrs", devid: own.rid });
    }
  });
  return { targets: order.map((rid) => ({ rid, causes: causes.get(rid)! })), skipped };
}
