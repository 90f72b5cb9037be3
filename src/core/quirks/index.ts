export { acsEnableHook, acsQuirkAnswer, parseAcsOverride } from "./acs-quirks.js";
export type { AcsOverride, AcsQuirkContext } from "./acs-quirks.js";
export {
  ACS_ENABLE_ROWS,
  ACS_QUIRK_ROWS,
  CAVIUM_ROOT_PORTS,
  INTEL_PCH_ROOT_PORTS,
  INTEL_SPT_ROOT_PORTS,
  WANGXUN_ISOLATED_NICS,
  ZHAOXIN_ISOLATED_PORTS,
} from "./acs-table.js";
export { ALIAS_QUIRK_ROWS } from "./alias-table.js";
export { applyAliasQuirks } from "./apply.js";
export type { ApplyAliasOptions, QuirkEffects } from "./apply.js";
export { inIdSet, matchesRow, onRootBus, rowActive } from "./match.js";
export type { QuirkSubject, RowGate } from "./match.js";
export type {
  AcsEffect,
  AcsEnableEffect,
  AcsEnableHookName,
  AcsQuirkFn,
  AliasDevfnEffect,
  AliasEffect,
  AliasFunctionEffect,
  AliasRangeEffect,
  FlagEffect,
  IdRange,
  IdSet,
  KernelRange,
  QuirkEffect,
  QuirkFlag,
  QuirkMatch,
  QuirkPass,
  QuirkRow,
  SwitchtecProxyEffect,
} from "./row.js";
