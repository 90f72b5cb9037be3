/**
 * The records IOMMUs keep for a faulting request, and the lines Linux
 * prints for them, by kernel era (hw-models.md §2.4 VT-d, §3.3 AMD-Vi,
 * §4 SMMUv3). Era boundaries are the releases the format strings changed
 * in drivers/iommu/intel/dmar.c and drivers/iommu/amd/iommu.c; the last
 * VT-d one (the segment) is only known from a 7.x tree.
 */
import { atLeast } from "../kernel/version.js";
import type { KernelVersion } from "../kernel/version.js";
import { formatFault } from "../program/messages.js";
import type { Fault, IommuArch } from "../program/faults.js";
import type { Access } from "../program/page-table.js";
import { formatRid } from "../topology/address.js";

export const LOG_FORMATS = [
  /** before 4.7: `DMAR:[DMA Read] Request device [..] fault addr ..` then `DMAR:[fault reason NN] ..` on a second line */
  "vtd-two-line",
  /** 4.7 to 5.3: one line, fault reason in decimal */
  "vtd-one-line",
  /** 5.4 to 5.12: one line with `PASID ffffffff` when the request had none */
  "vtd-pasid",
  /** 5.13 on: `[DMA Read NO_PASID]`, hex with 0x */
  "vtd-no-pasid",
  /** 7.x: the device with its segment, `[0000:03:04.2]` */
  "vtd-segment",
  /** before 5.0: `AMD-Vi: Event logged [IO_PAGE_FAULT device=03:04.2 … address=0x%016llx …]` */
  "amd-padded",
  /** 5.0 to 5.18: `address=0x%llx` */
  "amd-no-segment",
  /** 5.19 on: `device=0000:03:04.2` */
  "amd-segment",
  /** SMMUv3: `event 0x10 received:` and the four raw event dwords */
  "smmu-raw",
] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** the format a kernel release prints faults of an IOMMU kind in */
export function logFormatFor(arch: IommuArch, kernel: KernelVersion): LogFormat {
  switch (arch) {
    case "vtd":
      if (!atLeast(kernel, 4, 7)) return "vtd-two-line";
      if (!atLeast(kernel, 5, 4)) return "vtd-one-line";
      if (!atLeast(kernel, 5, 13)) return "vtd-pasid";
      return atLeast(kernel, 7, 0) ? "vtd-segment" : "vtd-no-pasid";
    case "amd":
      if (!atLeast(kernel, 5, 0)) return "amd-padded";
      return atLeast(kernel, 5, 19) ? "amd-segment" : "amd-no-segment";
    case "smmu":
      return "smmu-raw";
  }
}

/** what a VT-d unit writes into a primary fault recording register, and FSTS as the handler reads it */
export interface VtdFaultRecord {
  readonly arch: "vtd";
  readonly unit: string;
  readonly segment: number;
  /** FSTS: PPF (bit 1) with FRI (bits 15:8) = the record index */
  readonly fsts: number;
  readonly fri: number;
  /** FI: the faulting page address (bits 63:12 of the request address) */
  readonly fi: number;
  /** SID: the requester ID */
  readonly sid: number;
  /** FR: the fault reason */
  readonly fr: number;
  /** T: read or write */
  readonly type: Access;
}

/** an AMD-Vi event log entry */
export interface AmdEventRecord {
  readonly arch: "amd";
  readonly unit: string;
  readonly segment: number;
  readonly code: number;
  readonly devid: number;
  readonly domainId: number;
  readonly address: number;
  readonly flags: number;
  /** a function the kernel knows at that requester ID: the line is then printed against it */
  readonly device: { readonly bdf: string; readonly driver: string | undefined } | undefined;
}

/** an SMMUv3 event queue entry */
export interface SmmuEventRecord {
  readonly arch: "smmu";
  readonly unit: string;
  readonly id: number;
  readonly sid: number;
  readonly iova: number;
  readonly access: Access;
}

export type FaultRecord = VtdFaultRecord | AmdEventRecord | SmmuEventRecord;

/** fault recording registers per VT-d unit (CAP.NFR + 1; 8 is common, unverified) */
export const VTD_FAULT_RECORDS = 8;
const PAGE_MASK = 4096;

const hex = (n: number): string => n.toString(16);
const hex0x = (n: number, width = 0): string => `0x${n.toString(16).padStart(width, "0")}`;
const pageOf = (a: number): number => a - (a % PAGE_MASK);
const withSegment = (segment: number, rid: number): string => `${segment.toString(16).padStart(4, "0")}:${formatRid(rid)}`;

/** the VT-d record for a fault, given how many faults the unit recorded before */
export function vtdRecord(unit: string, segment: number, rid: number, address: number, access: Access, fault: Fault, earlier: number): VtdFaultRecord {
  const fri = earlier % VTD_FAULT_RECORDS;
  return { arch: "vtd", unit, segment, fsts: (fri << 8) | 0x2, fri, fi: pageOf(address), sid: rid & 0xffff, fr: fault.code, type: access };
}

/** Linux's text for a VT-d fault reason as the era printed it: scalable-mode reasons were "Unknown" before 5.4 */
function vtdReason(fr: number, format: LogFormat, fault: Fault): string {
  if (fr >= 0x30 && (format === "vtd-two-line" || format === "vtd-one-line")) return "Unknown";
  return formatFault(fault);
}

/** the lines the kernel prints for one VT-d fault (the DRHD status line first) */
export function vtdLogLines(r: VtdFaultRecord, fault: Fault, format: LogFormat): string[] {
  const kind = r.type === "read" ? "DMA Read" : "DMA Write";
  const reason = vtdReason(r.fr, format, fault);
  const dec = r.fr.toString(10).padStart(2, "0");
  const status = `DRHD: handling fault status reg ${hex(r.fsts)}`;
  const dev = formatRid(r.sid);
  switch (format) {
    case "vtd-two-line":
      return [`dmar: ${status}`, `dmar: DMAR:[${kind}] Request device [${dev}] fault addr ${hex(r.fi)}`, `DMAR:[fault reason ${dec}] ${reason}`];
    case "vtd-one-line":
      return [`DMAR: ${status}`, `DMAR: [${kind}] Request device [${dev}] fault addr ${hex(r.fi)} [fault reason ${dec}] ${reason}`];
    case "vtd-pasid":
      return [`DMAR: ${status}`, `DMAR: [${kind}] Request device [${dev}] PASID ffffffff fault addr ${hex(r.fi)} [fault reason ${dec}] ${reason}`];
    case "vtd-segment":
      return [`DMAR: ${status}`, `DMAR: [${kind} NO_PASID] Request device [${withSegment(r.segment, r.sid)}] fault addr ${hex0x(r.fi)} [fault reason ${hex0x(r.fr, 2)}] ${reason}`];
    default:
      return [`DMAR: ${status}`, `DMAR: [${kind} NO_PASID] Request device [${dev}] fault addr ${hex0x(r.fi)} [fault reason ${hex0x(r.fr, 2)}] ${reason}`];
  }
}

/** the line the kernel prints for one AMD-Vi event */
export function amdLogLines(r: AmdEventRecord, fault: Fault, format: LogFormat): string[] {
  const address = format === "amd-padded" ? hex0x(r.address, 16) : hex0x(r.address);
  const device = format === "amd-segment" ? withSegment(r.segment, r.devid) : formatRid(r.devid);
  const flags = hex0x(r.flags, 4);
  if (fault.name === "ILLEGAL_DEV_TABLE_ENTRY") {
    return [`iommu ${r.unit}: AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=${device} pasid=0x00000 address=${address} flags=${flags}]`];
  }
  const body = `domain=${hex0x(r.domainId, 4)} address=${address} flags=${flags}`;
  if (r.device) return [`${r.device.driver ?? "pci"} ${r.device.bdf}: AMD-Vi: Event logged [${fault.name} ${body}]`];
  return [`AMD-Vi: Event logged [${fault.name} device=${device} ${body}]`];
}

/** EVTQ_1_RnW: bit 35 of the second event word, set for a read */
const SMMU_EVT1_RNW = 1n << 35n;

/** SMMUv3: the raw event dwords (id and StreamID in dword 0, RnW in dword 1, the input address in dword 2; other fields 0) */
export function smmuLogLines(r: SmmuEventRecord): string[] {
  if (r.id === 0) return []; // an abort STE records nothing
  const dev = "arm-smmu-v3 arm-smmu-v3.0.auto";
  const dword = (v: bigint): string => `${dev}: \t0x${v.toString(16).padStart(16, "0")}`;
  const evt0 = (BigInt(r.sid) << 32n) | BigInt(r.id);
  return [`${dev}: event ${hex0x(r.id, 2)} received:`, dword(evt0), dword(r.access === "read" ? SMMU_EVT1_RNW : 0n), dword(BigInt(r.iova)), dword(0n)];
}

/** the architecture a log format belongs to */
export const formatArch = (format: LogFormat): IommuArch => (format.startsWith("vtd-") ? "vtd" : format.startsWith("amd-") ? "amd" : "smmu");

/** the kernel lines for a fault record; `format` must be one of the record's architecture */
export function faultLogLines(r: FaultRecord, fault: Fault, format: LogFormat): string[] {
  switch (r.arch) {
    case "vtd":
      return vtdLogLines(r, fault, format);
    case "amd":
      return amdLogLines(r, fault, format);
    case "smmu":
      return smmuLogLines(r);
  }
}

/**
 * What AER prints for an ACS Violation (uncorrectable status bit 21) the
 * port detected; the layout follows aer_print_error (approximate).
 */
export function acsViolationLines(port: string, vendor: number, device: number): string[] {
  const id = `${vendor.toString(16).padStart(4, "0")}:${device.toString(16).padStart(4, "0")}`;
  return [
    `pcieport ${port}: PCIe Bus Error: severity=Uncorrected (Non-Fatal), type=Transaction Layer, (Requester ID)`,
    `pcieport ${port}:   device [${id}] error status/mask=00200000/00000000`,
    `pcieport ${port}:    [21] ACSViol                (First)`,
  ];
}

/** sriov_enable refusing VFs whose bus is past the parent bus range (drivers/pci/iov.c) */
export function vfBusRangeLine(pf: string, driver: string | undefined, count: number, bus: number, start: number, end: number): string {
  const h = (n: number): string => n.toString(16).padStart(2, "0");
  const range = start === end ? `[bus ${h(start)}]` : `[bus ${h(start)}-${h(end)}]`;
  return `${driver ?? "pci"} ${pf}: can't enable ${count} VFs (bus ${h(bus)} out of range of ${range})`;
}
