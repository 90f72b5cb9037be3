export { DEVICE_KINDS, DMI_FIELDS, HOST_ONLY_PATHS, aloneOf, deviceKindCounts, hostFacts, hostIdentity, hostRisks, parsePartition, partitionText } from "./facts.js";
export type { DeviceKind, DmiField, FunctionFact, HostFacts, HostIdentity, RiskFact, RiskKind } from "./facts.js";
export { LABEL_PREFIX, labelsText, nodeLabels } from "./labels.js";
