/**
 * iommu-atlas core: the isomorphic library (no Node or DOM APIs). Sources
 * become a Snapshot; `predict` derives aliases, ACS and IOMMU groups; the
 * feature areas are namespaces.
 */
export { CAPTURE_LIMITS, CaptureError, CaptureReader, looksLikeCapture, readCapture } from "./capture/index.js";
export type { CaptureLimits } from "./capture/index.js";
export { decodeConfig } from "./config/decode.js";
export type { DecodeOptions, DecodedConfig } from "./config/decode.js";
export { snapshotFromDesign } from "./design/from-design.js";
export type { Design, DesignResult } from "./design/from-design.js";
export type { FileTree, FileTreeEntry } from "./fs/file-tree.js";
export { diffGroups } from "./iommu/diff.js";
export type { GroupDiff, GroupDifference } from "./iommu/diff.js";
export { dmaAliases, forEachDmaAlias } from "./iommu/dma-alias.js";
export type { AliasProps, DmaAlias } from "./iommu/dma-alias.js";
export type { GroupPrediction, GroupStep, PredictedGroup } from "./iommu/groups.js";
export { predict } from "./iommu/predict.js";
export type { AcsEdit, PredictOptions, Prediction } from "./iommu/predict.js";
export { compareGroups, splitOptions, whatIf } from "./iommu/whatif.js";
export type { GroupChange, SplitOption, WhatIf } from "./iommu/whatif.js";
export type { ConfigIssue, TopologyIssue } from "./issues.js";
export { aliasesToJson, whoisToJson } from "./json/aliases.js";
export { diffToJson, groupsToJson } from "./json/groups.js";
export { showToJson, treeToJson } from "./json/topology.js";
export { parseCmdline } from "./kernel/cmdline.js";
export type { KernelParams } from "./kernel/cmdline.js";
export { kernelWithoutGroups, parseKernelVersion } from "./kernel/version.js";
export type { KernelVersion } from "./kernel/version.js";
export { looksLikeLspci, needsPciIds, snapshotFromLspci } from "./lspci/index.js";
export type { LspciOptions, LspciResult } from "./lspci/index.js";
export { PciIds, lspciName } from "./pci-ids/index.js";
export type { IdMatch, NameLookup, PciNames } from "./pci-ids/index.js";
export { formatAlias, formatConfigIssue, formatNote, formatStep, formatTopologyIssue } from "./messages.js";
export { snapshotFromSysfs } from "./sources/from-sysfs.js";
export type { Snapshot, SnapshotNote } from "./sources/snapshot.js";
export { devId, devfnOf, formatBdf, funcOf, parseBdf, slotOf } from "./topology/address.js";
export { buildTopology } from "./topology/build.js";
export type { BuildOptions, FunctionInput } from "./topology/build.js";
export type { AcsState, BridgeKind, PciBus, PciFunction, Topology } from "./topology/model.js";

export * as acpi from "./acpi/index.js";
export * as faults from "./faults/index.js";
export * as fleet from "./fleet/index.js";
export * as plan from "./plan/index.js";
export * as program from "./program/index.js";
export * as quirks from "./quirks/index.js";
export * as sim from "./sim/index.js";
export * as switchtec from "./switchtec/index.js";
