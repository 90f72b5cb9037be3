/**
 * English for every issue and explanation code: the one place prose lives.
 * Each function is a switch over a code; the data stays structured elsewhere.
 */
import type { AcsReason, AcsVerdict } from "./iommu/acs.js";
import type { DmaAlias } from "./iommu/dma-alias.js";
import type { GroupStep } from "./iommu/groups.js";
import type { UngroupedReason } from "./iommu/units.js";
import type { NoSplit } from "./iommu/whatif.js";
import type { LayoutInference } from "./iommu/units.js";
import type { ConfigIssue, TopologyIssue } from "./issues.js";
import { formatLspciWarning } from "./lspci/messages.js";
import { acsFlagList, pcieTypeName } from "./names.js";
import type { SnapshotNote } from "./sources/snapshot.js";
import { formatRid } from "./topology/address.js";

const hex = (n: number): string => `0x${n.toString(16)}`;

export function formatConfigIssue(issue: ConfigIssue): string {
  switch (issue.code) {
    case "config-absent":
      return "no config space was captured";
    case "config-short":
      return `only ${issue.known} bytes of config space were read; capabilities beyond them (ACS, PCIe type, SR-IOV) are unknown — capture as root`;
    case "config-all-ones":
      return `config space reads all ones at offset ${hex(issue.offset)}: the function did not respond`;
    case "header-type-unknown":
      return `offset ${hex(issue.offset)}: unknown header type ${issue.headerType}`;
    case "cap-pointer-invalid":
      return `offset ${hex(issue.offset)}: ${issue.space} capability pointer ${hex(issue.pointer)} is out of range; list ends here`;
    case "cap-loop":
      return `offset ${hex(issue.offset)}: ${issue.space} capability list loops; list ends here`;
    case "cap-beyond-known":
      return `offset ${hex(issue.offset)}: ${issue.space} capability lies beyond the ${issue.known} bytes read`;
    case "cap-truncated":
      return `offset ${hex(issue.offset)}: capability ${hex(issue.capId)} is cut off by the end of the dump`;
    case "cap-duplicate":
      return `offset ${hex(issue.offset)}: capability ${hex(issue.capId)} appears again (first at ${hex(issue.first)})`;
  }
}

export function formatTopologyIssue(issue: TopologyIssue): string {
  switch (issue.code) {
    case "duplicate-bdf":
      return `${issue.bdf} appears twice; the second one is ignored`;
    case "bus-claimed-twice":
      return `bus ${issue.bus.toString(16).padStart(2, "0")} is the secondary bus of several bridges (${issue.bridges.join(", ")}); the first is used`;
    case "bus-range-overlap":
      return `bridges ${issue.bdf} and ${issue.other} have overlapping bus ranges`;
    case "bus-loop":
      return `${issue.bdf}: bus ${issue.bus.toString(16).padStart(2, "0")} would make the bus hierarchy loop; that link is ignored`;
    case "bus-range-invalid":
      return `${issue.bdf}: subordinate bus ${hex(issue.subordinate)} is below secondary bus ${hex(issue.secondary)}`;
    case "bus-outside-parent-range":
      return `${issue.bdf}: bus ${hex(issue.bus)} lies outside the range of the bridge above (${issue.parent})`;
    case "not-scanned": {
      const why = {
        "no-function-0": "its slot has no function 0",
        "slot-below-port": "only device 0 is scanned below a root or downstream port",
        "function-0-single": "function 0 of its slot is not multifunction",
      }[issue.reason];
      return `${issue.bdf} would not be found by the kernel's scan: ${why}`;
    }
    case "sysfs-parent-mismatch":
      return `${issue.bdf}: sysfs places it below ${issue.sysfsParent ?? "a root bus"}, bus numbers say ${issue.configParent ?? "a root bus"}`;
    case "vf-predicted":
      return `${issue.bdf}: SR-IOV VF of ${issue.physfn} predicted from NumVFs (not present in the source)`;
    case "vf-bus-overflow":
      return `${issue.physfn}: VF ${issue.vf} would need a requester ID beyond bus ff`;
  }
}

export function formatNote(note: SnapshotNote): string {
  switch (note.code) {
    case "no-pci-devices":
      return "the source holds no PCI functions";
    case "config-unprivileged":
      return `${note.functions} function(s) were captured without root: only 64 bytes of config space, so ACS and PCIe types are unknown`;
    case "no-iommu-groups":
      return "the source records no IOMMU groups (IOMMU off, or not captured)";
    case "group-link-mismatch":
      return `${note.bdf}: iommu_group link says ${note.link}, the group folders say ${note.listed ?? "none"}`;
    case "lspci-dumps":
      return `the file holds ${note.dumps} lspci runs (${note.format}); they are read as one machine`;
    case "lspci":
      return formatLspciWarning(note.warning);
  }
}

/** why one function passed or failed pci_acs_enabled */
export function formatAcsReason(v: AcsVerdict): string {
  const r: AcsReason = v.reason;
  switch (r.kind) {
    case "quirk":
      return `quirk ${r.rowId} says ACS is ${v.enabled ? "effectively on" : "not on"}`;
    case "not-pcie":
      return "conventional PCI: no ACS possible";
    case "bridge-type":
      return `${pcieTypeName(r.pcieType)}: the kernel never counts it as isolated`;
    case "flags":
      return r.missing === 0 ? "ACS SV RR CR UF enabled (or not implemented)" : `ACS ${acsFlagList(r.missing)} not enabled`;
    case "no-acs-cap":
      return "no ACS capability";
    case "acs-unknown":
      return "ACS unknown (the capabilities were not captured: run the capture as root), taken as not isolating";
    case "single-function":
      return "single-function device: isolated by itself";
    case "other-type":
      return `PCIe type ${r.pcieType}: counted as isolated`;
  }
}

export function formatAlias(a: DmaAlias): string {
  switch (a.cause) {
    case "own":
      return `${formatRid(a.rid)} (own)`;
    case "quirk":
      return `${formatRid(a.rid)} (quirk ${a.source})`;
    case "bridge":
      return `${formatRid(a.rid)} (via ${a.rule} ${a.via})`;
    case "real-dma-dev":
      return `${formatRid(a.rid)} (behind VMD: the DMA of VMD endpoint ${a.via})`;
  }
}

const UNGROUPED_TEXT: Record<UngroupedReason, string> = {
  "not-covered": "no IOMMU unit covers it",
  "iommu-itself": "it is the IOMMU's own function",
  "iommu-off": "the IOMMU is off",
  "no-driver": "no driver probes it, and arm64 Linux sets a function up for the SMMU only when a driver probes it",
  "stream-conflict": "the SMMUv3 driver refused it (a StreamID of its DMA is already held)",
};

/** why a function has no IOMMU group, as a clause */
export const formatUngroupedReason = (reason: UngroupedReason): string => UNGROUPED_TEXT[reason];

const PROBE_PHASE_TEXT = {
  scan: "the built-in port driver's ID table matches its class, so its probe ran while the bus was added, before any module",
  modules: "its driver probed it after the scan",
  vfs: "a VF, added when SR-IOV was enabled after the drivers loaded; with sriov_drivers_autoprobe a driver probe was attempted on it then (one that fails keeps the group)",
  add: "this kernel sets every function up when it is added (≈6.15), in scan order",
} as const;

/** one explanation line per group step */
export function formatStep(step: GroupStep): string {
  switch (step.code) {
    case "alias-bridge-group":
      return step.alias.cause === "real-dma-dev"
        ? `it sits behind VMD endpoint ${step.via}, whose requester ID its DMA carries; ${step.via} is in group ${step.group}, so it joins that group`
        : `its DMA is seen as ${formatAlias(step.alias)}; bridge ${step.via} is already in group ${step.group}, so it joins that group`;
    case "acs-isolated":
      return `the path above ${step.bridge} is ACS-isolated up to the root`;
    case "acs-not-isolated":
      return step.group === undefined
        ? `${step.bridge} does not isolate (${step.failing.bdf}: ${formatAcsReason(step.failing)}); it has no group yet, keep climbing`
        : `${step.bridge} does not isolate (${step.failing.bdf}: ${formatAcsReason(step.failing)}), so it shares group ${step.group} of ${step.bridge}`;
    case "alias-group":
      return `${step.at} and ${step.partner} are DMA aliases of each other${step.chain.length > 1 ? ` (via ${step.chain.join(" → ")})` : ""}; joins group ${step.group}`;
    case "function-group":
      return `${step.at} is multifunction without isolation (${formatAcsReason(step.verdict)}); sibling ${step.sibling} is in group ${step.group}`;
    case "new-group":
      return step.verdict && !step.verdict.enabled
        ? `new group ${step.group}; not isolated from the other functions of its slot (${formatAcsReason(step.verdict)}), so they join it`
        : `isolated: new group ${step.group}`;
    case "no-iommu":
      if (step.reason === "iommu-off") return "the IOMMU is off: no groups at all";
      if (step.refusal) {
        const r = step.refusal;
        const sid = `StreamID 0x${r.sid.toString(16)} on ${r.unit}`;
        return r.heldBy !== undefined
          ? `${sid}, one of its DMA aliases, already belongs to ${r.heldBy}: the SMMUv3 driver refuses a second master ("stream already in tree"), so it has no group though its driver binds`
          : `its alias walk gives ${sid} twice and this kernel's SMMUv3 driver refuses the duplicate ("stream already in tree"), so it has no group though its driver binds`;
      }
      return `${UNGROUPED_TEXT[step.reason]}: no group`;
    case "arm-probe": {
      const by = step.driver ? `${step.driver}: ` : "";
      const order = step.phase === "modules" && step.orderFrom === "assumed" ? " (module load order assumed: a module loads when the first function it drives is found)" : "";
      return `${by}${PROBE_PHASE_TEXT[step.phase]}${order}; the SMMU set it up then`;
    }
  }
}

/** why no kernel parameter splits a group */
export function formatNoSplit(n: NoSplit): string {
  switch (n.reason) {
    case "bridge-alias":
      return `the functions' requests reach the IOMMU with the requester ID of bridge ${n.via}, so the IOMMU cannot tell them apart; only another slot, not behind that bridge, separates them`;
    case "dma-alias":
      return "the functions are DMA aliases of each other: the IOMMU cannot tell their requests apart";
    case "no-parameter":
      return "none of the ACS override variants we model makes this group smaller";
  }
}

/** the caveat of a split that only an override makes */
export function formatSplitCaveat(stillReachable: readonly string[]): string {
  return stillReachable.length
    ? `but it only tells the kernel to assume isolation: ${stillReachable.join(", ")} can still reach it peer to peer without passing the IOMMU`
    : "but it only tells the kernel to assume isolation the hardware does not enforce";
}

/** a group that rests on ACS a short dump did not show */
export function formatUnknownAcsDependency(bdfs: readonly string[]): string {
  return `depends on unknown ACS of ${bdfs.join(", ")}: capture as root to be sure`;
}

/** what a layout inferred from the platform without an ACPI table (each is said in the output) */
export function formatLayoutInference(i: LayoutInference): string {
  const id = (v: number, d: number): string => `${v.toString(16).padStart(4, "0")}:${d.toString(16).padStart(4, "0")}`;
  switch (i.code) {
    case "amd-iommu-function":
      return `no IVRS table in the source: inferred that the AMD IOMMU (${i.iommu}) covers every function but itself${i.rootComplex ? ` and the root complex ${i.rootComplex}` : ""}, as on real AMD machines`;
    case "amd-iommu-emulated":
      return `no IVRS table in the source: the AMD IOMMU ${i.iommu} sits behind host bridge ${i.hostBridge} [${id(i.vendor, i.device)}], not an AMD root complex — inferred a QEMU guest with an emulated AMD IOMMU, whose host bridge does get a group`;
    case "intel-igpu-unit":
      return `no DMAR table in the source: inferred, as on Intel client platforms, a graphics-only DRHD unit for the integrated GPU ${i.igpu}, listed first, and one for everything else${i.perUnit ? "; this kernel probes per unit, so the GPU takes the first group number" : ""}`;
  }
}
