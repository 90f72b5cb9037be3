/**
 * English for the programming model: fault reasons (Linux's own strings),
 * entry causes, programming issues and field values. The rest of the
 * folder keeps data only.
 */
import type { UngroupedReason } from "../iommu/units.js";
import { formatUngroupedReason } from "../messages.js";
import { formatRid } from "../topology/address.js";
import type { Fault } from "./faults.js";
import type { ProgramIssue } from "./machine.js";
import type { ContextTableIssue } from "./context-table.js";
import type { AliasPolicy, EntryCause } from "./targets.js";
import type { VtdMode } from "./vtd.js";

const hex = (n: number, width = 0): string => `0x${n.toString(16).padStart(width, "0")}`;

/** Linux's text for a fault (dma_remap_fault_reasons[] / dma_remap_sm_fault_reasons[], AMD event names, SMMUv3 event names) */
export function formatFault(f: Fault): string {
  switch (f.name) {
    case "root-entry-not-present":
      return "Present bit in root entry is clear";
    case "context-entry-not-present":
      return "Present bit in context entry is clear";
    case "access-beyond-mgaw":
      return "Access beyond MGAW";
    case "pte-write-not-set":
      return "PTE Write access is not set";
    case "pte-read-not-set":
      return "PTE Read access is not set";
    case "sm-root-entry-not-present":
      return "SM: Present bit in Root Entry is clear";
    case "sm-context-entry-not-present":
      return "SM: Present bit in Context Entry is clear";
    case "sm-pasid-entry-not-present":
      return "SM: Present bit in PASID Table Entry is clear";
    case "sm-second-level-permission":
      return "SM: Read/Write permission error in second-level paging entry";
    case "sm-address-beyond-max":
      return "SM: Address beyond the DMA hardware max";
    case "ste-abort":
      return "STE Config is abort: the request is terminated without an event";
    case "no-iommu-unit":
      return "no IOMMU unit handles this requester ID";
    default:
      return f.name; // AMD and SMMU events are known by their names
  }
}

/** `fault reason 0x02: Present bit in context entry is clear`, `IO_PAGE_FAULT`, `event 0x10 F_TRANSLATION` */
export function formatFaultCode(f: Fault): string {
  switch (f.arch) {
    case "vtd":
      return `fault reason ${hex(f.code, 2)}: ${formatFault(f)}`;
    case "amd":
      return `event ${hex(f.code)} ${f.name}`;
    case "smmu":
      return f.code === 0 ? formatFault(f) : `event ${hex(f.code, 2)} ${f.name}`;
    case "none":
      return formatFault(f);
  }
}

/** why an entry exists, e.g. `own`, `quirk dma-alias-…`, `bridge 0000:01:00.0 (pcie-to-pci)`, `IVRS alias of 02:01.0` */
export function formatCause(c: EntryCause): string {
  switch (c.cause) {
    case "own":
      return "own requester ID";
    case "quirk":
      return c.source === "ivrs" ? "IVRS alias in the alias mask" : `quirk ${c.source}`;
    case "bridge":
      return `bridge ${c.via} (${c.rule})`;
    case "real-dma-dev":
      return `VMD endpoint ${c.via}`;
    case "ivrs":
      return `IVRS alias_table[${formatRid(c.devid)}]`;
  }
}

export const formatNoUnit = (reason: UngroupedReason): string => formatUngroupedReason(reason);

export function formatProgramIssue(i: ProgramIssue): string {
  switch (i.code) {
    case "rid-conflict": {
      const what = i.sid >= 0 ? `StreamID ${hex(i.sid)} (requester ID ${formatRid(i.rid)})` : `requester ID ${formatRid(i.rid)}`;
      const why = i.causes.map(formatCause).join(", ");
      const outcome = {
        "kept-first": `Linux leaves the present entry: ${i.bdf}'s DMA as ${formatRid(i.rid)} is translated by '${i.heldDomain}'`,
        overwritten: `Linux overwrites it: ${i.heldBy}'s DMA as ${formatRid(i.rid)} is now translated by '${i.domain}'`,
        "probe-failed": `the SMMUv3 driver refuses the aliasing StreamID, so ${i.bdf} gets no IOMMU at all ("Aliasing StreamID unsupported, expect DMA to be broken")`,
      }[i.outcome];
      return `${i.unit}: ${what} is claimed by domain '${i.domain}' for ${i.bdf} (${why}) and by domain '${i.heldDomain}' for ${i.heldBy}; ${outcome}. Put both functions in one domain, or move one to another slot`;
    }
    case "no-iommu":
      return `${i.bdf}: ${formatUngroupedReason(i.reason)}, so Linux cannot attach it to a domain`;
    case "unknown-function":
      return `${i.bdf}: no such function in the source; run 'iommu-atlas show' to list them`;
    case "entry-cleared-in-use":
      return `${i.unit}: detaching ${i.bdf} clears the entry for ${formatRid(i.rid)}, which ${i.users.join(", ")} still rely on`;
    case "no-stream-id":
      return `${i.unit}: no iommu-map entry gives requester ID ${formatRid(i.rid)} of ${i.bdf} a StreamID`;
  }
}

/** VT-d legacy context entry TT values */
export function ttName(tt: number): string {
  return ["multi-level", "multi-level+dev-iotlb", "pass-through", "reserved"][tt & 3]!;
}

/** scalable-mode PASID entry PGTT values */
export function pgttName(pgtt: number): string {
  return ["reserved", "first-level", "second-level", "nested", "pass-through"][pgtt] ?? "reserved";
}

/** SMMUv3 STE Config values */
export function steConfigName(config: number): string {
  const names: Record<number, string> = { 0: "abort", 4: "bypass", 5: "stage-1 translate", 6: "stage-2 translate", 7: "nested" };
  return names[config] ?? `reserved (${config})`;
}

/** which requester IDs an attach programs, in a sentence */
export function formatPolicy(policy: AliasPolicy, mode: VtdMode): string {
  switch (policy) {
    case "every-alias":
      return mode === "legacy"
        ? "VT-d legacy mode: a context entry for every DMA alias (own, quirk and bridge requester IDs)"
        : "VT-d scalable mode before 6.10: a context entry for every DMA alias, each pointing at the device's PASID table";
    case "own-and-mask":
      return "VT-d scalable mode (6.10+): context entries for the own and alias-mask requester IDs only; bridge aliases get none";
    case "amd-clone":
      return "AMD-Vi: the device's DTE, cloned to its IVRS alias and to every DMA alias";
    case "stream-ids":
      return "SMMUv3: every DMA alias becomes a StreamID of the device, each with an STE";
  }
}

export function formatContextTableIssue(i: ContextTableIssue): string {
  switch (i.code) {
    case "group-split": {
      const members = i.members.map((m) => `${m.bdf} ${m.domain === null ? "(not assigned)" : `→ '${m.domain}'`}`).join(", ");
      return `IOMMU group ${i.group} is split across domains: ${members}; Linux attaches a whole group to one domain, so this cannot happen as written: give the group one domain`;
    }
    case "group-partial":
      return `IOMMU group ${i.group} also holds ${i.unassigned.join(", ")}, not assigned here; Linux attaches them to '${i.domain}' as well (VFIO needs the whole group)`;
  }
}
