/**
 * Quirk rows: the kernel's device-specific exceptions as plain data.
 *
 * A row says which functions it matches, when the kernel consults it, what it
 * does (a structural effect, never code) and why. One matcher (match.ts)
 * compares rows against functions; the appliers turn effects into properties
 * that the alias and group algorithms read.
 */

/**
 * When the kernel consults a row: `header` and `final` are PCI fixup passes
 * (before device registration / when drivers may bind); `lookup` rows are
 * asked on demand (ACS quirk table, ACS enable hooks), not run as fixups.
 */
export type QuirkPass = "header" | "final" | "lookup";

/** device-specific "is ACS effectively on" functions of the §4.5 table */
export type AcsQuirkFn =
  | "amd_sb"
  | "mf_endpoint"
  | "rciep"
  | "qcom_rp"
  | "nxp_rp"
  | "xgene"
  | "brcm"
  | "intel_pch"
  | "intel_spt_pch"
  | "cavium"
  | "al"
  | "zhaoxin_ports"
  | "wangxun_nic"
  | "acs_override";

/** device-specific ACS enable hooks run at boot (§4.6) */
export type AcsEnableHookName = "intel_pch" | "intel_spt_pch";

/** dev_flags a quirk can set that the alias walk reads */
export type QuirkFlag = "pcie-bridge-alias" | "xlate-root";

/** alias devfn (own slot, fn), unless the function's own number already is fn */
export interface AliasFunctionEffect {
  readonly kind: "alias-function";
  readonly fn: number;
}

/** fixed alias devfns on the function's own bus, whatever its own devfn */
export interface AliasDevfnEffect {
  readonly kind: "alias-devfn";
  readonly devfns: readonly number[];
}

/** `count` alias devfns starting at `from` (clamped to 256, like pci_add_dma_alias) */
export interface AliasRangeEffect {
  readonly kind: "alias-range";
  readonly from: number;
  readonly count: number;
}

/** sets a dev flag; `pcie-bridge-alias` only when the bridge condition of §6 holds */
export interface FlagEffect {
  readonly kind: "flag";
  readonly flag: QuirkFlag;
}

/** Switchtec NT endpoint: aliases come from BAR0 registers, decoded elsewhere */
export interface SwitchtecProxyEffect {
  readonly kind: "switchtec-proxy";
}

/** answers "is ACS effectively on" through the named quirk function */
export interface AcsEffect {
  readonly kind: "acs";
  readonly fn: AcsQuirkFn;
}

/** replaces the standard boot-time ACS enabling with the named hook */
export interface AcsEnableEffect {
  readonly kind: "acs-enable";
  readonly hook: AcsEnableHookName;
}

export type AliasEffect = AliasFunctionEffect | AliasDevfnEffect | AliasRangeEffect | FlagEffect | SwitchtecProxyEffect;

export type QuirkEffect = AliasEffect | AcsEffect | AcsEnableEffect;

/** an inclusive device-id range */
export interface IdRange {
  readonly from: number;
  readonly to: number;
}

/** a set of ids written as single ids and inclusive ranges */
export type IdSet = readonly (number | IdRange)[];

/** what a row matches; every given field must match */
export interface QuirkMatch {
  readonly vendor: number | "any";
  readonly device: number | "any" | readonly number[] | IdRange;
  readonly subsystemVendor?: number;
  readonly subsystemDevice?: number;
  /** 24-bit class compared under `classMask` (default 0xffffff) */
  readonly classCode?: number;
  readonly classMask?: number;
}

/**
 * Kernel releases that have a row: half-open `[since, until)`, written
 * `"4.16"` or `"≈4.16"` (inferred, not read from a tag). `since: "unknown"`
 * marks a proposal not known to be merged: such a row never fires unless
 * asked for explicitly.
 */
export interface KernelRange {
  readonly since?: string;
  readonly until?: string;
}

/** one quirk: match, pass, effect and the reason with its source */
export interface QuirkRow<E extends QuirkEffect = QuirkEffect> {
  /** stable id, `<quirk>/<hardware>` */
  readonly id: string;
  readonly match: QuirkMatch;
  readonly pass: QuirkPass;
  readonly effect: E;
  /** the hardware behaviour behind the row, in our words */
  readonly reason: string;
  /** kernel file and hook, commit ids or mailing-list subject */
  readonly ref: string;
  readonly kernels?: KernelRange;
}
