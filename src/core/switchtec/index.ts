export {
  EXCERPT_FILE,
  EXCERPT_MAGIC,
  EXCERPT_SOURCE_FILE,
  NTB_INFO_RANGE,
  encodeExcerpt,
  parseExcerpt,
  partitionsToCapture,
  tableRange,
  tableSizeRange,
} from "./excerpt.js";
export { imageFromPartitions, proxyIdEntry } from "./from-partitions.js";
export type { PartitionSpec, PartitionTable, ProxyIdSpec } from "./from-partitions.js";
export { EMPTY_GAS_IMAGE, GasReader, gasImage } from "./gas-image.js";
export type { GasImage, GasRange, GasRegion } from "./gas-image.js";
export {
  SWITCHTEC_CANNOT_ENABLE,
  SWITCHTEC_CANNOT_IOMAP,
  SWITCHTEC_PROXY_UNKNOWN,
  SWITCHTEC_SETTING_ALIASES,
  switchtecAliasing,
  switchtecProcessing,
  switchtecTableSizeInvalid,
  switchtecTableSizeZero,
} from "./kernel-messages.js";
export { ntbProxies, ntbWarnings } from "./ntb-prediction.js";
export type { NtbProxy, NtbProxyOptions, NtbProxyStatus } from "./ntb-prediction.js";
export { proxyAliases } from "./proxy-aliases.js";
export type { MissingRegister, ProxyAliasEntry, ProxyAliasOptions, ProxyAliasResult, ProxyAliasWarning, ProxyPartition } from "./proxy-aliases.js";
