export {
  ADDRESS_WIDTHS,
  IoPageTable,
  PAGE_SIZE,
  PERM_RW,
  PTE_READ,
  PTE_WRITE,
  SIZE_1G,
  SIZE_2M,
  WALK_BEYOND,
  WALK_DENIED,
  WALK_NOT_PRESENT,
  WALK_OK,
  levelsOfWidth,
  widthOfLevels,
} from "./page-table.js";
export type { Access, AddressWidth, MapError, MapOptions, Mapping, PageTableLevels, Perm, WalkStatus } from "./page-table.js";

export { IommuDomain } from "./domain.js";
export type { DomainKind, DomainOptions } from "./domain.js";

export {
  AMD_FLAG_PE,
  AMD_FLAG_PR,
  AMD_FLAG_RW,
  AMD_ILLEGAL_DEV_TABLE_ENTRY,
  AMD_IO_PAGE_FAULT,
  NO_UNIT,
  SMMU_C_BAD_STE,
  SMMU_C_BAD_STREAMID,
  SMMU_F_ADDR_SIZE,
  SMMU_F_PERMISSION,
  SMMU_F_TRANSLATION,
  SMMU_STE_ABORT,
  Translation,
  VTD_BEYOND_MGAW,
  VTD_CONTEXT_NOT_PRESENT,
  VTD_READ_NOT_SET,
  VTD_ROOT_NOT_PRESENT,
  VTD_SM_BEYOND_MAX,
  VTD_SM_CONTEXT_NOT_PRESENT,
  VTD_SM_PASID_ENTRY_NOT_PRESENT,
  VTD_SM_ROOT_NOT_PRESENT,
  VTD_SM_SL_PERMISSION,
  VTD_WRITE_NOT_SET,
} from "./faults.js";
export type { Fault, IommuArch } from "./faults.js";

export {
  CONTEXT_TT_DEV_IOTLB,
  CONTEXT_TT_MULTI_LEVEL,
  CONTEXT_TT_PASS_THROUGH,
  PASID_PGTT_FIRST_LEVEL,
  PASID_PGTT_NESTED,
  PASID_PGTT_PASS_THROUGH,
  PASID_PGTT_SECOND_LEVEL,
  RID_PASID,
  VtdPasidTable,
  VtdUnitModel,
  awField,
} from "./vtd.js";
export type { VtdContextEntry, VtdMode, VtdPasidEntry, VtdRootEntry } from "./vtd.js";

export { AmdDeviceTable, DTE_MODE_NONE } from "./amd.js";
export type { AmdDeviceTableOptions, AmdDte } from "./amd.js";

export {
  IDENTITY_IOMMU_MAP,
  STE_CFG_ABORT,
  STE_CFG_BYPASS,
  STE_CFG_NESTED,
  STE_CFG_S1_TRANSLATE,
  STE_CFG_S2_TRANSLATE,
  SmmuStreamTable,
} from "./smmu.js";
export type { IommuMapEntry, SmmuOptions, SmmuSte } from "./smmu.js";

export { aliasPolicy, entryTargets } from "./targets.js";
export type { AliasPolicy, EntryCause, EntryTarget, EntryTargets } from "./targets.js";

export { IommuMachine, machineFromPrediction } from "./machine.js";
export type {
  AttachReport,
  ConflictOutcome,
  DetachReport,
  EntryAction,
  EntryRef,
  MachineOptions,
  ProgramIssue,
  ProgrammedEntry,
} from "./machine.js";

export {
  BLOCKED_DOMAIN_NAME,
  IDENTITY_DOMAIN_NAMES,
  causeToJson,
  contextTableToJson,
  domainKindOf,
  entryToJson,
  programAssignments,
} from "./context-table.js";
export type { Assignment, CauseJson, ContextTableIssue, ContextTableJson, ContextTableOptions, EntryJson } from "./context-table.js";

export { unitsToJson } from "./units-json.js";
export type { AmdUnitJson, AssumedUnitJson, IntelUnitJson, ScopeJson, UnitJson, UnitsJson } from "./units-json.js";

export {
  formatCause,
  formatContextTableIssue,
  formatFault,
  formatFaultCode,
  formatNoUnit,
  formatPolicy,
  formatProgramIssue,
  pgttName,
  steConfigName,
  ttName,
} from "./messages.js";
