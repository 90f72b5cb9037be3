/**
 * English for the simulator: steps, outcomes, setup warnings and mapping
 * problems. The rest of the folder keeps data only.
 */
import type { AcsReason } from "../iommu/acs.js";
import type { KernelVersion } from "../kernel/version.js";
import { formatKernel } from "../kernel/version.js";
import { formatAcsReason } from "../messages.js";
import { acsFlagsText } from "../names.js";
import { formatFaultCode } from "../program/messages.js";
import type { MapError } from "../program/page-table.js";
import { PCI_ACS_CR, PCI_ACS_RR, REQ_ACS_FLAGS } from "../regs/acs.js";
import { formatDevfn, formatRid } from "../topology/address.js";
import type { NtbChip } from "./ntb.js";
import type { Claim, DropReason, NotIssuedReason, Outcome, OwnershipRule, PortKind, Step } from "./outcome.js";

const hex = (n: number): string => `0x${n.toString(16)}`;
const h2 = (n: number): string => n.toString(16).padStart(2, "0");

const PORT_NAMES: Record<PortKind, string> = {
  "root-port": "root port",
  "upstream-port": "switch upstream port",
  "downstream-port": "switch downstream port",
  "pcie-to-pci": "PCIe-to-PCI bridge",
  "pci-to-pcie": "PCI-to-PCIe bridge",
  "pci-bridge": "conventional PCI bridge",
  other: "bridge",
};

const OWNERSHIP: Record<OwnershipRule, string> = {
  "pcie-to-pci": "takes ownership of the conventional PCI request (PCIe-to-PCI bridge spec 1.0 §2.3): requester ID (secondary bus, 00.0)",
  "pci-to-pcie": "a PCI-to-PCIe bridge issues the request with its own requester ID",
  "pci-bridge": "a conventional PCI bridge issues the request upstream with its own requester ID",
  "pcie-bridge-alias": "a PCIe-to-PCI bridge hiding its PCIe capability takes ownership as (secondary bus, 00.0)",
};

const DROP_TEXT: Record<DropReason, string> = {
  "acs-violation": "ACS Violation: Source Validation found a requester ID outside the port's bus range; the port drops the request",
  "ntb-requester-not-registered": "the NTB's requester-ID table has no enabled slot for this requester ID: the switch rejects it (ID protection)",
  "ntb-lut-entry-disabled": "the LUT entry the address falls in is not enabled: the switch rejects it",
  "rc-no-p2p": "the root complex does not forward peer-to-peer requests (root_complex_p2p: false)",
  "routing-loop": "the request kept crossing NTB windows; stopped as a loop",
};

const NOT_ISSUED_TEXT: Record<NotIssuedReason, string> = {
  "vf-refused": "Linux refused to enable the VFs: there is no such function to issue it (force: true emits it anyway)",
  "vf-not-enabled": "the VF is not enabled (VF Enable off or NumVFs too small): there is no such function to issue it (force: true emits it anyway)",
};

export const formatDropReason = (r: DropReason): string => DROP_TEXT[r];
export const formatNotIssued = (r: NotIssuedReason): string => NOT_ISSUED_TEXT[r];

/** why the evaluator answered RR or CR as it did, in the words of that one flag */
function redirectReason(reason: AcsReason | undefined, flag: number, redirect: boolean): string {
  const name = flag === PCI_ACS_CR ? "CR" : "RR";
  if (!reason) return "conventional PCI: every device on the bus sees the request, no ACS";
  if (reason.kind === "flags") {
    if (reason.missing !== 0) return `ACS ${name} off`;
    return reason.cap & flag ? `ACS ${name} on` : `ACS ${name} not implemented: the port does no peer-to-peer, the kernel counts it as on`;
  }
  return formatAcsReason({ bdf: "", enabled: redirect, reason });
}

function claimText(c: Claim): string {
  return c.kind === "bar" ? `BAR${c.bar ?? ""} of ${c.bdf}` : `NT window ${c.window} (BAR${c.bar}) of ${c.bdf}, partition ${c.partition}`;
}

/** one line per step */
export function formatStep(s: Step): string {
  switch (s.code) {
    case "issue": {
      const what = s.access === "write" ? "Memory Write" : "Memory Read";
      const who = s.bdf === undefined ? "the CPU" : s.bdf;
      const ari = s.ari ? ` (ARI: function ${s.rid & 0xff})` : "";
      return `${who} issues a ${what} of ${s.size} byte${s.size === 1 ? "" : "s"} to ${hex(s.address)} with requester ID ${formatRid(s.rid)}${ari}`;
    }
    case "phantom":
      return `phantom function ${s.phantom} (${s.phantomBits} phantom bit${s.phantomBits > 1 ? "s" : ""}): the request carries ${formatRid(s.rid)}`;
    case "vf-rid":
      return (
        `VF ${s.vf} of ${s.pf}: routing ID = PF + First VF Offset ${hex(s.offset)} + ${s.vf - 1} × VF Stride ${s.stride} = ${formatRid(s.rid)}` +
        (s.virtualBus ? " (on a virtual bus: no bridge above it)" : "") +
        (s.forced ? "; emitted although Linux has no such VF (force)" : "")
      );
    case "forged-rid":
      return `${s.bdf} forges requester ID ${formatRid(s.rid)}`;
    case "ownership":
      return `${s.bdf} ${OWNERSHIP[s.rule]}: ${formatRid(s.from)} → ${formatRid(s.rid)}`;
    case "acs-sv":
      if (!s.enabled) return `${s.bdf}: ACS Source Validation off, ${formatRid(s.rid)} not checked`;
      return s.pass
        ? `${s.bdf}: ACS Source Validation: bus ${h2(s.rid >> 8)} within [${h2(s.secondary)}-${h2(s.subordinate)}]`
        : `${s.bdf}: ACS Source Validation: bus ${h2(s.rid >> 8)} outside [${h2(s.secondary)}-${h2(s.subordinate)}]: ACS Violation`;
    case "forward-up": {
      const acs = s.acsCtrl === undefined ? "" : `, ACS ${acsFlagsText(REQ_ACS_FLAGS, s.acsCtrl)}`;
      return `${s.bdf} (${PORT_NAMES[s.port]}) forwards it upstream with ${formatRid(s.rid)}${acs}`;
    }
    case "p2p":
      return s.decision === "direct"
        ? `${s.bdf}: the address is ${s.target}'s, reachable here: peer-to-peer direct (${redirectReason(s.reason, PCI_ACS_RR, false)}); the IOMMU is not consulted`
        : `${s.bdf}: the address is ${s.target}'s, but the request is redirected upstream to the root complex (${redirectReason(s.reason, PCI_ACS_RR, true)})`;
    case "p2p-completion":
      return s.decision === "direct"
        ? `${s.bdf}: the completion goes straight back to the requester (${redirectReason(s.reason, PCI_ACS_CR, false)})`
        : `${s.bdf}: the completion is redirected upstream (${redirectReason(s.reason, PCI_ACS_CR, true)})`;
    case "iommu":
      return iommuText(s);
    case "no-iommu":
      return `root complex: no IOMMU, ${hex(s.address)} is used as it is`;
    case "route-down":
      return `${s.viaRootComplex ? "the root complex routes it" : "routed"} down ${s.path.join(" → ")} to ${claimText(s.claim)}`;
    case "ntb-window":
      if (s.kind === "direct") return `NTB partition ${s.partition}: direct window BAR${s.bar} + ${hex(s.offset)} → partition ${s.target} address ${hex(s.address)}`;
      return s.enabled
        ? `NTB partition ${s.partition}: LUT window BAR${s.bar} entry ${s.lutIndex} + ${hex(s.offset)} → partition ${s.target} address ${hex(s.address)}`
        : `NTB partition ${s.partition}: LUT window BAR${s.bar} entry ${s.lutIndex} is not enabled`;
    case "ntb-requester":
      if (s.slot === undefined) {
        const known = s.registered.length === 0 ? "none" : s.registered.map(formatRid).join(", ");
        return `NTB partition ${s.partition}: requester ID ${formatRid(s.rid)} is in no enabled slot of the requester-ID table (registered: ${known})`;
      }
      return `NTB partition ${s.partition}: requester-ID table slot ${s.slot} admits ${formatRid(s.rid)}; its proxy devfn is ${formatDevfn(s.proxy!)}`;
    case "ntb-egress":
      return `leaves NT endpoint ${s.bdf} (partition ${s.partition}) with proxy requester ID ${formatRid(s.rid)} to ${hex(s.address)}`;
    case "ntb-completion":
      return `NTB partition ${s.partition}: the completion to proxy ${formatDevfn(s.proxy)} is mapped back to ${formatRid(s.rid)}`;
  }
}

const ARCH_NAMES = { vtd: "VT-d", amd: "AMD-Vi", smmu: "SMMUv3" } as const;

function iommuText(s: Extract<Step, { code: "iommu" }>): string {
  const rid = formatRid(s.rid);
  const unit = `${ARCH_NAMES[s.arch]} (${s.unit})`;
  const where =
    s.arch === "vtd"
      ? s.root
        ? `root entry for bus ${h2(s.rid >> 8)} present, context entry ${rid} ${s.context ? "present" : "not present"}`
        : `root entry for bus ${h2(s.rid >> 8)} not present`
      : s.arch === "amd"
        ? `DTE[${rid}] ${s.context ? "programmed" : "the boot default (blocked, domain 0)"}`
        : `StreamID ${s.streamId >= 0 ? hex(s.streamId) : "none"}`;
  if (!s.ok) return `${unit} looks up ${rid} at ${hex(s.address)}: ${where}; ${formatFaultCode(s.fault!)}`;
  const how = s.passThrough ? "pass-through" : `translated to ${hex(s.result)}`;
  return `${unit} looks up ${rid} at ${hex(s.address)}: ${where}; domain ${s.domain ?? "?"} (id ${s.domainId}): ${how}`;
}

/** the outcome in one line, without the host (the JSON and the renderer carry it) */
export function formatOutcome(o: Outcome): string {
  const via = (translated: boolean, domain: string | undefined): string => (translated ? ` through the IOMMU (domain ${domain ?? "?"})` : " without the IOMMU");
  switch (o.kind) {
    case "delivered":
      return `delivered to ${o.to === "memory" ? "memory" : o.to} at ${hex(o.address)}${via(o.translated, o.domain)}`;
    case "faulted":
      return `faulted: ${formatFaultCode(o.fault)} for ${formatRid(o.rid)} at ${hex(o.address)}; the request does not reach memory`;
    case "dropped":
      return `dropped at ${o.at}: ${formatDropReason(o.reason)}`;
    case "not-issued":
      return `not issued: ${o.at}: ${formatNotIssued(o.reason)}`;
  }
}

/** a domain.map refusal, as a scenario problem */
export function formatMapError(e: MapError, width: number): string {
  switch (e.code) {
    case "unaligned":
      return `${e.field} ${hex(e.value)} is not a multiple of 4 KiB; IOMMU mappings are whole pages`;
    case "empty-range":
      return "the mapping is empty (size 0)";
    case "no-permission":
      return "a mapping needs read, write or both (perm: r, w or rw)";
    case "beyond-width":
      return `mapping outside the address width: [${hex(e.iova)}, ${hex(e.iova + e.size)}) passes the domain's ${width}-bit space (ends at ${hex(2 ** width)}); use a smaller IOVA${width < 57 ? " or a wider address_width" : ""}`;
    case "paddr-beyond-limit":
      return `the host address range ends at ${hex(e.paddr + e.size)}, past the 52-bit physical limit`;
    case "already-mapped":
      return `${hex(e.iova)} is mapped already in this domain; mappings may not overlap`;
    case "not-paging":
      return `domain '${e.domain}' is ${e.kind}: it has no page table`;
  }
}

/** a function whose requester ID is a quirk alias of another function's attach */
export function isolationLossMessage(bdf: string, other: string, rid: string, quirk: string, domain: string, otherDomain: string | undefined): string {
  const then = otherDomain === undefined ? `its DMA is translated by '${domain}' although nobody attached it there` : `its own domain '${otherDomain}' loses that entry`;
  return `isolation loss: ${other}'s requester ID ${rid} is a DMA alias of ${bdf} (quirk ${quirk}), so attaching ${bdf} to '${domain}' programs it too: ${then}`;
}

/** an attach whose quirk aliases cover much of a bus */
export function wideAliasMessage(bdf: string, count: number, bus: number, domain: string): string {
  return `isolation loss: ${bdf} has ${count} quirk aliases on bus ${h2(bus)}: any function there, hot-added ones too, shares domain '${domain}'`;
}

/** a DMA alias an attach leaves without an entry (VT-d scalable mode, 6.10+) */
export function skippedAliasMessage(bdf: string, rid: string, via: string | undefined): string {
  return `${bdf}: VT-d scalable mode (6.10+) programs no context entry for its bridge alias ${rid}${via ? ` (via ${via})` : ""}: DMA that reaches the IOMMU as ${rid} faults`;
}

/** why an NT endpoint got no proxy aliases */
export type NoAliasWhy = "disabled" | "no-quirk" | "empty";

/** an NT endpoint the kernel did not alias */
export function noNtQuirkMessage(bdf: string, id: string, kernel: KernelVersion, chip: NtbChip, why: NoAliasWhy): string {
  const name = chip === "switchtec" ? "Switchtec" : "PLX";
  const text = {
    disabled: "alias_quirks: false",
    "no-quirk": `kernel ${formatKernel(kernel)} has no ${name} NTB DMA-alias quirk for ${id}; the quirk came in ${chip === "switchtec" ? "≈4.16, for later chips later" : "≈5.5"}`,
    empty: "the quirk ran but the peers' requester-ID tables gave it nothing",
  }[why];
  return `${bdf}: no proxy IDs are DMA aliases (${text}): requests from peer partitions reach the IOMMU with requester IDs nobody programmed`;
}
