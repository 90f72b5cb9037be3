/**
 * English for plan problems, findings and refused alias requests: the one
 * place the plan check's prose lives. Each function switches over a code.
 */
import type { z } from "zod";
import { schemaWords } from "../design/yaml-source.js";
import { excerpt } from "../excerpt.js";
import { formatNoSplit, formatStep, formatUngroupedReason } from "../messages.js";
import { formatRid, parseBdf } from "../topology/address.js";
import type { RefusalReason, RequestReason } from "./alias-requests.js";
import type { Domain, Finding, RidEmitter, RmrrRegion, SplitMember } from "./findings.js";
import { HOST } from "./plan.js";
import type { DeviceEntry } from "./plan.js";

// ---------------------------------------------------------------- plan file

export const MSG_DEVICE_ENTRY = "expected a selector (0000:01:00.0, 10de:1b80 or class:0300) or a map with select and driver";
export const MSG_DRIVER = "expected a driver name such as vfio-pci or pci-stub";
export const MSG_GUEST_NAME = "expected a guest name: letters, digits and _ . + -, starting with a letter or digit";
export const MSG_VF_COUNT = "expected a VF count: a whole number up to 65535";
export const MSG_EMPTY_PLAN = "the plan is empty; expected a map with guests, host, sriov or alias_requests (see docs/plan.md)";
export const MSG_NOT_A_MAP = "expected a map with guests, host, sriov or alias_requests at the top (see docs/plan.md)";

const quote = (s: string): string => `'${excerpt(s, 40)}'`;

export const notSelectorMessage = (s: string): string => `${quote(s)} is not a BDF, vendor:device or class; write 0000:01:00.0, 10de:1b80 or class:0300`;
export const notBdfMessage = (s: string): string => `${quote(s)} is not a PCI address; write [dddd:]bb:dd.f, e.g. 0000:81:00.0`;
export const notRidMessage = (s: string): string => `${quote(s)} is not a requester ID; write [dddd:]bb:dd.f, or dd.f for the device's own bus`;
export const reservedGuestMessage = (name: string): string => `${quote(name)} names the functions the host keeps; pick another guest name`;
export const duplicateGuestMessage = (name: string, first: string): string => `guest ${quote(name)} is already defined at ${first}; guest names must be unique`;
export const duplicateSriovMessage = (pf: string): string => `${pf} appears twice in sriov; give each PF one VF count`;

export function unknownGuestMessage(name: string, known: readonly string[]): string {
  return `no guest named ${quote(name)} in this plan${known.length ? ` (guests: ${known.join(", ")})` : "; define it under guests first"}`;
}

/** zod issue → English, for the shapes a YAML plan can get wrong; undefined keeps zod's own text */
export function schemaIssueMessage(iss: z.core.$ZodRawIssue): string | undefined {
  if (iss.code === "unrecognized_keys") return `${schemaWords(iss)} (see docs/plan.md for the fields a plan has)`;
  return schemaWords(iss);
}

// ---------------------------------------------------------------- plan against the machine

/** undefined: a bridge in a group several guests want */
const where = (d: Domain | undefined): string => (d === undefined ? "whichever guest claims its group" : d === HOST ? "the host" : `guest ${d}`);

export function noFunctionMessage(bdf: string, label: string, vfSlot: { readonly pf: string; readonly index: number } | undefined): string {
  if (vfSlot) return `no function ${bdf} in ${excerpt(label, 80)}; it would be VF ${vfSlot.index} of ${vfSlot.pf}: add "${vfSlot.pf}": ${vfSlot.index + 1} (or more) under sriov`;
  return `no function ${bdf} in ${excerpt(label, 80)}; run 'iommu-atlas show' to list the functions`;
}

export const noMatchMessage = (text: string, label: string): string => `${quote(text)} matches no function in ${excerpt(label, 80)}; run 'iommu-atlas show' to list the functions`;

export function conflictingPlacesMessage(bdf: string, first: { domain: Domain; entry: DeviceEntry }, second: { domain: Domain; entry: DeviceEntry }): string {
  return `${bdf} is selected here for ${where(second.domain)} and at ${first.entry.path} (line ${first.entry.line}) for ${where(first.domain)}; a function goes to one place only: name it by BDF where it belongs`;
}

export type SriovProblem =
  | { readonly code: "is-vf"; readonly pf: string; readonly physfn: string | undefined }
  | { readonly code: "not-read" | "no-sriov" | "no-vfs"; readonly pf: string }
  | { readonly code: "too-many"; readonly pf: string; readonly asked: number; readonly total: number }
  | { readonly code: "no-routing"; readonly pf: string; readonly offset: number; readonly stride: number };

export function sriovProblemMessage(p: SriovProblem): string {
  switch (p.code) {
    case "is-vf":
      return `${p.pf} is a VF itself; VFs are enabled on their PF${p.physfn ? ` (${p.physfn})` : ""}`;
    case "not-read":
      return `${p.pf}: its extended config space was not captured, so its SR-IOV capability is unknown; capture as root`;
    case "no-sriov":
      return `${p.pf} has no SR-IOV capability`;
    case "no-vfs":
      return `${p.pf} offers no VFs (TotalVFs is 0)`;
    case "too-many":
      return `${p.asked} VFs asked, but ${p.pf} offers at most ${p.total} (TotalVFs); the kernel would refuse the write`;
    case "no-routing":
      return `${p.pf} reports First VF Offset ${p.offset} and VF Stride ${p.stride}, so where its VFs would appear cannot be predicted`;
  }
}

// ---------------------------------------------------------------- findings

/** the kernel's own warnings when VFIO wants a device with a "direct" RMRR (kernel-spec §8.2) */
export const RMRR_CORE_MESSAGE =
  "Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.";
export const RMRR_INTEL_MESSAGE = "Device is ineligible for IOMMU domain attach due to platform RMRR requirement. Contact your platform vendor.";
/** what QEMU / libvirt print for a group that is not viable (kernel-spec §8.1) */
export const NOT_VIABLE_HINT = "please ensure all devices within the iommu_group are bound to their vfio bus driver";

const BRIDGE_RULE: Record<string, string> = {
  "pcie-to-pci": "PCIe-to-PCI bridge",
  "pci-to-pcie": "PCI-to-PCIe bridge",
  "pci-bridge": "conventional PCI bridge",
  "pcie-bridge-alias": "bridge (quirk: aliases as its secondary bus)",
};

/** how a function comes to emit a requester ID: `as its own requester ID`, `through PCIe-to-PCI bridge …` */
export function causeText(e: RidEmitter): string {
  switch (e.cause) {
    case "own":
      return "as its own requester ID";
    case "quirk":
      return `through its DMA alias mask (${e.source === "ivrs" ? "IVRS alias" : `quirk ${e.source}`})`;
    case "bridge":
      return `through ${BRIDGE_RULE[e.rule ?? ""] ?? "bridge"} ${e.via}`;
    case "phantom":
      return `as a phantom function${e.phantomEnabled === true ? " (enabled now)" : e.phantomEnabled === false ? " (not enabled now; its driver may enable it)" : ""}`;
    case "ivrs":
      return "through the IVRS alias table";
  }
}

export const emitterText = (e: RidEmitter): string => `${e.bdf} (${where(e.domain)}) ${causeText(e)}`;

const regionText = (r: RmrrRegion): string => `0x${r.base.toString(16)}-0x${r.limit.toString(16)}`;

const ROLE: Record<SplitMember["role"], string> = {
  guest: "",
  host: "not in the plan, so it stays with the host",
  "host-listed": "kept by the host",
  bridge: "bridge, stands aside",
};

function memberWho(m: SplitMember): string {
  return m.role === "guest" ? `${m.bdf} (guest ${m.domain})` : `${m.bdf} (${ROLE[m.role]})`;
}

function partiesText(members: readonly SplitMember[]): string {
  const order: string[] = [];
  const by = new Map<string, string[]>();
  for (const m of members) {
    if (m.domain === undefined) continue;
    if (!by.has(m.domain)) order.push(m.domain);
    by.set(m.domain, [...(by.get(m.domain) ?? []), m.bdf]);
  }
  order.sort((a, b) => (a === HOST ? 1 : b === HOST ? -1 : 0));
  const text = order.map((d) => `${where(d)} (${by.get(d)!.join(", ")})`);
  return text.length === 2 ? `${text[0]} and ${text[1]}` : `${text.slice(0, -1).join(", ")} and ${text[text.length - 1]}`;
}

const ridList = (rids: readonly number[]): string => rids.map(formatRid).join(", ");

/** one line that says what is wrong */
export function findingText(f: Finding): string {
  switch (f.code) {
    case "group-split":
      return `group ${f.group} is split between ${partiesText(f.members)}`;
    case "group-not-viable":
      return `group ${f.group} (guest ${f.guest}) would not be viable: ${f.blockers.map((b) => `${b.bdf} is bound to ${b.driver}`).join(", ")}`;
    case "driver-not-vfio":
      return `${f.bdf} (guest ${f.guest}) is to be bound to ${f.driver}, but a guest reaches a device only through vfio-pci or a vfio-pci variant driver`;
    case "no-group": {
      const why = formatUngroupedReason(f.reason);
      return `${f.bdf} (guest ${f.guest}) has no IOMMU group (${why}), so VFIO cannot assign it`;
    }
    case "not-scanned":
      return `${f.bdf} (guest ${f.guest}) would not be found by the kernel's scan, so there is nothing to assign`;
    case "bridge-in-guest":
      return `${f.bdf} (${f.place.path}, line ${f.place.line}) is a bridge: vfio-pci binds only normal-header functions, so guest ${f.guest} does not get it; it keeps its driver and joins a guest's IOMMU domain only as part of a group that guest takes`;
    case "rmrr":
      return rmrrText(f);
    case "rmrr-not-checked":
      return f.iommu === "amd"
        ? "AMD-Vi: IVMD unity ranges (the RMRR analogue) are not checked"
        : f.iommu === "smmuv3"
          ? "arm64: the source has no IORT table, so RMR nodes (the RMRR analogue) were not checked"
          : "the source has no DMAR table, so RMRRs were not checked";
    case "alias-conflict":
      return `requester ID${f.rids.length > 1 ? "s" : ""} ${ridList(f.rids)} can be emitted in ${new Set(f.emitters.map((e) => e.domain)).size} domains: ${f.emitters.map(emitterText).join("; ")}`;
    case "sriov-bus-overflow": {
      const pfBus = parseBdf(f.pf)?.bus ?? 0;
      const h2 = (n: number): string => n.toString(16).padStart(2, "0");
      return f.bus > 0xff
        ? `${f.pf}: ${f.numVfs} VFs would need requester IDs beyond bus ff (from VF ${f.vf} on), which do not exist`
        : `${f.pf}: VF ${f.vf} of ${f.numVfs} would sit on bus ${h2(f.bus)}, beyond bus ${h2(f.busLimit)}${f.bridge ? ` (the subordinate bus of ${f.bridge})` : ""}: the kernel refuses with "can't enable ${f.numVfs} VFs (bus ${h2(f.bus)} out of range of [bus ${h2(pfBus)}-${h2(f.busLimit)}])"`;
    }
    case "pf-with-vfs-to-guest":
      return `${f.pf} goes to guest ${f.guest} with ${f.numVfs} VFs enabled: vfio-pci refuses to bind a PF whose VFs exist ("Cannot bind to PF with SR-IOV enabled"), and the PF's driver controls every VF`;
    case "acs-unknown":
      return `group ${f.group} (guest ${f.guest}) rests on ACS that was not captured (${f.functions.join(", ")}, taken as absent); capture as root to be sure`;
    case "kernel-groups-differ":
      return `the kernel recorded group ${f.kernelGroup} as {${f.kernelMembers.join(", ")}}, the prediction for this plan says {${f.predicted.join(", ")}} (group ${f.group}); the check follows the prediction`;
  }
}

function rmrrText(f: Extract<Finding, { code: "rmrr" }>): string {
  const what = f.table === "IORT" ? "an IORT RMR" : "an RMRR";
  const head = `${f.bdf} (guest ${f.guest}, group ${f.group}) has ${what} (${f.regions.map(regionText).join(", ")})${f.via === f.bdf ? "" : ` through bridge ${f.via}`}`;
  switch (f.outcome) {
    case "refused-core":
      return `${head}: the kernel refuses to hand it to VFIO: "${RMRR_CORE_MESSAGE}"`;
    case "refused-intel":
      return `${head}: the kernel refuses to hand it to VFIO: "${RMRR_INTEL_MESSAGE}"`;
    case "relaxed":
      return f.relaxable === "rmr"
        ? `${head}; the RMR permits remapping, so its region is relaxable: assignment goes ahead and the firmware's 1:1 mapping is dropped while the guest has it`
        : `${head}; as a ${f.relaxable === "usb" ? "USB controller" : "graphics device"} its region is relaxable, so assignment goes ahead and the firmware's 1:1 mapping is dropped while the guest has it`;
    case "not-enforced":
      return `${head}; ${f.table === "IORT" ? "kernels before ≈6.3" : "kernels before ≈3.17"} assign it anyway, and firmware DMA to that region then goes wherever the guest's mappings point`;
  }
}

/** further lines under the headline: the explanation and what would fix it */
export function findingDetails(f: Finding): string[] {
  switch (f.code) {
    case "group-split": {
      const lines = [`why these functions share group ${f.group}:`];
      for (const m of f.members) lines.push(`  ${memberWho(m)}: ${m.steps.map(formatStep).join("; ")}`);
      for (const w of f.wholeGroup) {
        const from = [...new Set(w.move.map((m) => m.from))].sort((a, b) => (a === HOST ? -1 : b === HOST ? 1 : 0));
        const steps = from.map((d) => {
          const bdfs = w.move.filter((m) => m.from === d).map((m) => m.bdf).join(", ");
          return d === HOST ? `add ${bdfs}` : `move ${bdfs} from guest ${d}`;
        });
        lines.push(`fix: give guest ${w.guest} the whole group: ${steps.join("; ")}`);
      }
      for (const s of f.splits) {
        lines.push(
          `or boot with ${s.change}: the group becomes {${s.groupAfter.join(", ")}}${s.separates ? "" : ", which still mixes the parties"}; this only tells the kernel to assume isolation, the functions can still reach each other peer to peer without the IOMMU`,
        );
      }
      if (f.noSplit) lines.push(`no kernel parameter splits it: ${formatNoSplit(f.noSplit)}`);
      return lines;
    }
    case "group-not-viable":
      return [
        f.model === "dma-ownership"
          ? "since 5.19 VFIO takes a group only when none of its drivers uses the kernel DMA API: vfio-pci (and variants), pci-stub, pcieport or no driver"
          : "up to 5.18 VFIO takes a group only when each function has no driver, a vfio driver or pci-stub, or is a bridge",
        `QEMU and libvirt then report: ${NOT_VIABLE_HINT}`,
        `fix: unbind ${f.blockers.map((b) => b.bdf).join(", ")} (or bind to pci-stub) before starting the guest`,
      ];
    case "driver-not-vfio":
      return ["fix: drop the driver from the plan entry (vfio-pci is the default for guests)"];
    case "rmrr":
      return f.outcome === "refused-core" || f.outcome === "refused-intel" ? ["fix: keep this function (and its group) with the host; only firmware without the RMRR lifts this"] : [];
    case "alias-conflict":
      return [
        "the IOMMU keeps one context entry (Intel) or DTE (AMD) per requester ID, so DMA carrying it is translated with one domain's tables, whichever was set last",
        "fix: give all these functions to one guest, or keep them all with the host",
      ];
    default:
      return [];
  }
}

// ---------------------------------------------------------------- guest alias requests

export function refusalText(r: RefusalReason, rid: string): string {
  switch (r.code) {
    case "captures":
      return `${rid} would capture DMA of ${r.emitters.map(emitterText).join("; ")}`;
    case "captures-vf":
      return `${rid} is where VF ${r.vf} of ${r.pf} (${where(r.pfDomain)}) appears once SR-IOV is enabled: it would capture that VF's DMA`;
    case "captures-hidden":
      return `${rid} is on a bus below bridge ${r.bridge} (${where(r.bridgeDomain)}): a device hot-plugged there, or one the host never enumerated, would be captured`;
    case "own-rid":
      return `${rid} is already emitted by the device itself (${causeText(r.emitter)}); there is nothing to add`;
    case "cross-bus":
      return `${rid} is not on the device's bus (${r.deviceBus.toString(16).padStart(2, "0")}); the kernel's alias mask only holds devfns of the device's own bus`;
    case "unprovable":
      return `nothing the host knows of uses ${rid}; only the guest's word says the device emits it, and nothing legitimate can be proven from inside a guest`;
  }
}

export function requestReasonText(r: RequestReason, device: string, guest: string): string {
  switch (r.code) {
    case "not-guest-device":
      return `${device} does not even belong to guest ${guest}: it is with ${where(r.owner)}`;
    case "guest-claim":
      return "the host cannot verify what a guest says about a device it drives: a guest can name any requester ID, including those of another guest's hidden devices";
    case "after-grouping":
      return "aliases decide the groups, so they must be known before the groups are formed; one added while guests run would merge groups under them";
  }
}
