/**
 * Fault and event codes the three IOMMU models report, and the reusable
 * translation result. Codes are the hardware's numbers (hw-models.md §2.3,
 * §3.3, §4); English lives in ./messages.ts.
 */
import type { IommuDomain } from "./domain.js";

export type IommuArch = "vtd" | "amd" | "smmu";

/** one fault kind: the number the hardware records and a stable name for JSON */
export interface Fault {
  /** "none" when no IOMMU unit handles the requester ID at all */
  readonly arch: IommuArch | "none";
  /** VT-d fault reason (FR), AMD event code, SMMUv3 event id; 0 for faults that record nothing */
  readonly code: number;
  readonly name: string;
}

const fault = (arch: Fault["arch"], code: number, name: string): Fault => Object.freeze({ arch, code, name });

/** VT-d fault reasons, legacy mode (Linux dma_remap_fault_reasons[]) */
export const VTD_ROOT_NOT_PRESENT = fault("vtd", 0x1, "root-entry-not-present");
export const VTD_CONTEXT_NOT_PRESENT = fault("vtd", 0x2, "context-entry-not-present");
export const VTD_BEYOND_MGAW = fault("vtd", 0x4, "access-beyond-mgaw");
export const VTD_WRITE_NOT_SET = fault("vtd", 0x5, "pte-write-not-set");
export const VTD_READ_NOT_SET = fault("vtd", 0x6, "pte-read-not-set");
/** VT-d fault reasons, scalable mode (Linux dma_remap_sm_fault_reasons[], from 0x30) */
export const VTD_SM_ROOT_NOT_PRESENT = fault("vtd", 0x39, "sm-root-entry-not-present");
export const VTD_SM_CONTEXT_NOT_PRESENT = fault("vtd", 0x41, "sm-context-entry-not-present");
export const VTD_SM_PASID_ENTRY_NOT_PRESENT = fault("vtd", 0x59, "sm-pasid-entry-not-present");
export const VTD_SM_SL_PERMISSION = fault("vtd", 0x79, "sm-second-level-permission");
export const VTD_SM_BEYOND_MAX = fault("vtd", 0x83, "sm-address-beyond-max");

/** AMD-Vi event codes (event[1] bits 31:28) */
export const AMD_ILLEGAL_DEV_TABLE_ENTRY = fault("amd", 0x1, "ILLEGAL_DEV_TABLE_ENTRY");
export const AMD_IO_PAGE_FAULT = fault("amd", 0x2, "IO_PAGE_FAULT");
/** IO_PAGE_FAULT flags, relative to event[1] bit 16 (hw-models §3.3; PR and PE unverified) */
export const AMD_FLAG_PR = 0x010;
export const AMD_FLAG_RW = 0x020;
export const AMD_FLAG_PE = 0x040;

/** SMMUv3 event ids (EVTQ_0_ID) */
export const SMMU_C_BAD_STREAMID = fault("smmu", 0x02, "C_BAD_STREAMID");
export const SMMU_C_BAD_STE = fault("smmu", 0x04, "C_BAD_STE");
export const SMMU_F_TRANSLATION = fault("smmu", 0x10, "F_TRANSLATION");
export const SMMU_F_ADDR_SIZE = fault("smmu", 0x11, "F_ADDR_SIZE");
export const SMMU_F_PERMISSION = fault("smmu", 0x13, "F_PERMISSION");
/** an STE with Config = abort terminates the request without recording an event (unverified) */
export const SMMU_STE_ABORT = fault("smmu", 0, "ste-abort");

/** no IOMMU unit handles the requester ID */
export const NO_UNIT = fault("none", 0, "no-iommu-unit");

/**
 * The outcome of one translate() call. Callers in a hot loop pass the same
 * object every time; each call overwrites every field, so nothing is
 * allocated per request.
 */
export class Translation {
  ok = false;
  /** host physical address when ok (the IOVA itself for pass-through) */
  address = 0;
  fault: Fault | undefined = undefined;
  /** the unit that handled the request (dmarN, ivhdN, smmuN) */
  unit = "";
  /** the domain named by the entry used; undefined when no entry names one */
  domain: IommuDomain | undefined = undefined;
  /** hardware domain id of the entry used: VT-d DID, AMD DomainID (0 = boot default), 0 for SMMU */
  domainId = 0;
  /** the walk stopped here: 1 = 4 KiB leaf, 2 = 2 MiB, 3 = 1 GiB; 0 when no walk happened */
  level = 0;
  /** bytes of the leaf used (0 for pass-through and faults) */
  pageSize = 0;
  passThrough = false;
  /** AMD IO_PAGE_FAULT flags (AMD_FLAG_*); 0 elsewhere */
  flags = 0;
  /** the StreamID an SMMU used; −1 for the other architectures */
  streamId = -1;

  /** clears every field; the models call it first */
  reset(unit: string): this {
    this.ok = false;
    this.address = 0;
    this.fault = undefined;
    this.unit = unit;
    this.domain = undefined;
    this.domainId = 0;
    this.level = 0;
    this.pageSize = 0;
    this.passThrough = false;
    this.flags = 0;
    this.streamId = -1;
    return this;
  }

  /** ends a translation with a fault */
  fail(f: Fault): this {
    this.ok = false;
    this.fault = f;
    return this;
  }

  /** ends a translation without a walk: the IOVA is the host address */
  pass(iova: number): this {
    this.ok = true;
    this.passThrough = true;
    this.address = iova;
    return this;
  }
}
