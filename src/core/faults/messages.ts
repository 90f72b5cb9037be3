/** English for fault reports and their causes */
import { excerpt } from "../excerpt.js";
import type { FaultCause, FaultNote } from "./explain.js";
import type { FaultLineFormat, ParsedFault } from "./parse.js";

const FORMAT_ERAS: Record<FaultLineFormat, string> = {
  "vtd-two-line": "VT-d, two-line format (before 4.7)",
  "vtd-one-line": "VT-d, one-line format (4.7 to 5.3)",
  "vtd-pasid": "VT-d, with PASID ffffffff (5.4 to 5.12)",
  "vtd-no-pasid": "VT-d, NO_PASID format (5.13 on)",
  "vtd-with-pasid": "VT-d, request with a PASID (5.13 on)",
  "vtd-segment": "VT-d, with the segment (newest kernels)",
  "vtd-intr-remap": "VT-d interrupt remapping",
  "amd-padded": "AMD-Vi, padded address (before 5.0)",
  "amd-no-segment": "AMD-Vi (5.0 to 5.18)",
  "amd-segment": "AMD-Vi, with the segment (5.19 on)",
  "amd-device": "AMD-Vi, printed against the device",
  "smmu-raw": "SMMUv3, raw event words",
  "smmu-decoded": "SMMUv3, decoded event",
};

export const formatFaultFormat = (f: FaultLineFormat): string => FORMAT_ERAS[f];

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, "0")}`;

/** one line: what the IOMMU reported */
export function formatFaultSummary(f: ParsedFault, rid: string): string {
  const what = f.kind === "interrupt" ? "interrupt" : f.access ? `DMA ${f.access}` : "request";
  const at = f.address !== undefined ? ` at ${excerpt(String(f.address), 40)}` : f.faultIndex !== undefined ? ` (IRTE index ${f.faultIndex})` : "";
  let reason: string;
  if (f.arch === "vtd") reason = f.code !== undefined ? `fault reason ${hex2(f.code)}${f.reason ? `: ${excerpt(f.reason, 80)}` : ""}` : "fault reason not shown";
  else if (f.arch === "amd") reason = `${excerpt(f.reason ?? "event", 80)}${f.domain !== undefined ? ` domain ${hex2(f.domain)}` : ""}${f.flags !== undefined ? ` flags ${hex2(f.flags)}` : ""}`;
  else reason = `event ${f.code !== undefined ? hex2(f.code) : "?"}${f.reason ? ` ${excerpt(f.reason, 80)}` : ""}`;
  return `${what} from ${rid}${at}: ${reason}`;
}

const list = (bdfs: readonly string[]): string => (bdfs.length <= 8 ? bdfs.join(", ") : `${bdfs.slice(0, 8).join(", ")} and ${bdfs.length - 8} more`);

export function formatFaultCause(c: FaultCause): string {
  switch (c.code) {
    case "switchtec-proxy-not-alias":
      return `proxy ID ${c.proxy} of NTB partition ${c.partition} (Switchtec NT function ${c.nt}) is not a DMA alias: a kernel without the Switchtec quirk${c.since ? ` (in Linux since ${c.since})` : ""}, or the NT function was hot-added`;
    case "switchtec-proxy-maybe":
      return `${c.proxy} sits on the bus of Switchtec NT function ${c.nt} and no function has it: probably a proxy ID of an NTB partition that is not a DMA alias, but the source lacks the NT function's register excerpt, so which IDs are proxies is unknown (capture as root with the switchtec driver bound)`;
    case "switchtec-proxy-alias":
      return c.kind === "no-entry"
        ? `proxy ID ${c.proxy} of NTB partition ${c.partition} is a DMA alias of ${c.nt} in this prediction, yet the IOMMU had no entry for it: the running kernel lacked the Switchtec quirk, or ${c.nt} had no domain attached when the peer wrote`
        : `proxy ID ${c.proxy} of NTB partition ${c.partition} reaches ${c.nt}'s domain, which does not map that address: the NT window's translation points outside the buffers the driver mapped`;
    case "bus-absent":
      return `no bus ${c.rid.slice(5, 7)} in this source: no function and no DMA alias carries ${c.rid}; the fault comes from hardware the source does not show (a hidden or hot-added device), or the requester ID was rewritten on the way`;
    case "no-emitter":
      return `no function and no DMA alias carries ${c.rid}: a device uses a requester ID the kernel does not know — a phantom function, a DMA source needing an alias quirk (e.g. Marvell SATA using function 1), or a function removed since the source was taken`;
    case "alias-not-attached":
      return `${c.rid} is a DMA alias (${c.via}) of ${list(c.emitters)}: the kernel writes its entry when they are attached to a domain, so none of them had one when the DMA arrived (no driver bound, or DMA left running by firmware or a previous kernel)`;
    case "not-attached":
      return c.amdDefault
        ? `${c.bdf} hit the boot-time default device-table entry (domain 0, no access): it did DMA before a driver attached it to a domain, or after it was detached`
        : `${c.bdf} has no entry in the IOMMU: it did DMA while not attached to a domain (no driver bound, DMA left running by firmware or a previous kernel), or the kernel never probed it`;
    case "not-mapped":
      return `${list(c.bdfs)} is attached, but its domain does not map ${c.address !== undefined ? excerpt(c.address, 40) : "the address"}${c.access ? ` for ${c.access}` : ""}: a driver bug or DMA after unmap, an RMRR/firmware buffer missing from the domain, or a peer-to-peer access that ACS redirected to the IOMMU`;
    case "interrupt-blocked":
      return `interrupt remapping refused an MSI from ${list(c.bdfs)}: its IRTE is not present, or the source-ID check did not accept the requester ID`;
    case "interrupt-not-pci":
      return `interrupt remapping refused an interrupt from ${c.rid}, which no PCI function has: an IOAPIC or HPET source ID from the DMAR table's device scopes (f0:1f.0 is the usual IOAPIC one) — firmware that routes it without an IRTE, or a scope that names the wrong ID`;
    case "device-error":
      return `${excerpt(c.event, 80)} from ${list(c.bdfs)}: not a missing mapping; the device or the IOMMU's tables reported an error of their own`;
  }
}

export function formatFaultNote(n: FaultNote): string {
  switch (n.code) {
    case "segment-assumed":
      return `the line does not print the PCI segment and the source has ${n.segments}: segment 0 assumed`;
    case "stream-id-as-rid":
      return `StreamID 0x${n.streamId.toString(16)} read as the requester ID (identity IORT / iommu-map mapping assumed)`;
    case "shared-rid":
      return `functions in groups ${n.groups.join(", ")} can emit this ID: the IOMMU cannot tell them apart`;
    case "printed-against":
      return `the kernel printed the fault against ${n.device}; the requester ID in the event is ${n.rid}`;
    case "era-mismatch":
      return `this line's format is printed by kernels ${n.since && n.until ? `${n.since} to before ${n.until}` : n.since ? `${n.since} and later` : `before ${n.until}`}, but the prediction models ${n.kernel}: pass --kernel with the release that printed it`;
    case "quirk-alias":
      return `the alias comes from quirk row ${n.quirk}: kernels without that quirk fault on it`;
  }
}
