/**
 * The page's one door into the engine. Everything the page shows comes
 * from these records and message functions; the page never re-derives PCI
 * logic of its own.
 */
export {
  buildTopology,
  dmaAliases,
  formatBdf,
  formatNote,
  formatTopologyIssue,
  groupsToJson,
  kernelWithoutGroups,
  lspciName,
  parseBdf,
  parseCmdline,
  parseKernelVersion,
  PciIds,
  plan,
  predict,
  snapshotFromSysfs,
} from "../../core/index.js";
export type { DmaAlias, FileTree, PciFunction, PredictOptions, Prediction, Snapshot, Topology } from "../../core/index.js";
export { explainToJson } from "../../core/json/explain.js";
export type { ExplainJson } from "../../core/json/explain.js";
export type { GroupsJson, MemberJson } from "../../core/json/groups.js";
export { formatGroupChange, formatIsolationLost, whatIfToJson } from "../../core/json/whatif.js";
export type { WhatIfJson } from "../../core/json/whatif.js";
export { formatKernel } from "../../core/kernel/version.js";
export { formatSplitCaveat, formatUnknownAcsDependency } from "../../core/messages.js";
export { acsFlagsText, className, functionKindName, hex4 } from "../../core/names.js";
export { ACS_FLAG_NAMES } from "../../core/regs/acs.js";
export { looksLikeCapture } from "../../core/capture/index.js";
export { snapshotFromArchive, snapshotFromText, sourceText } from "../../core/sources/from-input.js";
export { busKey, devId, formatRid } from "../../core/topology/address.js";
