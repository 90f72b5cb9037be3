/**
 * What a plan check finds, as data keyed by `code`. English lives in
 * messages.ts; severity is decided here, once.
 */
import type { BridgeAliasRule } from "../iommu/dma-alias.js";
import type { GroupStep } from "../iommu/groups.js";
import type { UngroupedReason } from "../iommu/units.js";
import type { Severity } from "../issues.js";
import type { PlanPlace } from "./plan.js";

export type { Severity };

/** who a function belongs to under the plan: a guest's name, or "host" */
export type Domain = string;

/** one function that may put a requester ID on the wire, and how */
export interface RidEmitter {
  readonly bdf: string;
  readonly domain: Domain;
  /** own RID, a quirk's alias mask, a bridge taking ownership, a phantom function number, or the AMD IVRS alias table */
  readonly cause: "own" | "quirk" | "bridge" | "phantom" | "ivrs";
  /** the bridge whose rule produced a bridge alias */
  readonly via?: string;
  readonly rule?: BridgeAliasRule;
  /** quirk row id */
  readonly source?: string;
  /** phantom functions: enabled now in Device Control (undefined: not read) */
  readonly phantomEnabled?: boolean | undefined;
}

export interface SplitMember {
  readonly bdf: string;
  /** guest: the plan gives it to a guest; host / host-listed: it stays (not in the plan / kept explicitly); bridge: stands aside */
  readonly role: "guest" | "host" | "host-listed" | "bridge";
  readonly domain: Domain | undefined;
  readonly steps: readonly GroupStep[];
}

/** give the whole group to one guest: these functions move */
export interface WholeGroupFix {
  readonly guest: string;
  readonly move: readonly { readonly bdf: string; readonly from: Domain }[];
}

/** a kernel parameter that makes the group smaller (iommu-atlas explain's split options) */
export interface SplitFix {
  readonly change: string;
  readonly groupAfter: readonly string[];
  /** after it, no group holds functions of two parties any more */
  readonly separates: boolean;
}

/** why no kernel parameter can split the group */
export type { NoSplit } from "../iommu/whatif.js";
import type { NoSplit } from "../iommu/whatif.js";

export interface RmrrRegion {
  readonly base: bigint;
  /** last byte, inclusive */
  readonly limit: bigint;
}

/** how the kernel treats an RMRR of a function handed to a guest (kernel-spec §8.2) */
export type RmrrOutcome =
  /** ≈6.3+: the IOMMU core refuses to take the device off its 1:1 mapping */
  | "refused-core"
  /** ≈3.17–6.2: the Intel driver refuses the domain attach */
  | "refused-intel"
  /** USB or graphics: the region is "direct-relaxable", assignment goes ahead without it */
  | "relaxed"
  /** before ≈3.17 nothing checked it */
  | "not-enforced";

export type Finding =
  | {
      readonly code: "group-split";
      readonly group: number;
      readonly members: readonly SplitMember[];
      readonly wholeGroup: readonly WholeGroupFix[];
      readonly splits: readonly SplitFix[];
      readonly noSplit: NoSplit | undefined;
    }
  | {
      readonly code: "group-not-viable";
      readonly group: number;
      readonly guest: string;
      /** dma-ownership: since 5.19 (driver_managed_dma); vfio-dev-viable: up to 5.18 */
      readonly model: "dma-ownership" | "vfio-dev-viable";
      readonly blockers: readonly { readonly bdf: string; readonly driver: string }[];
    }
  | { readonly code: "driver-not-vfio"; readonly bdf: string; readonly guest: string; readonly driver: string }
  | { readonly code: "no-group"; readonly bdf: string; readonly guest: string; readonly reason: UngroupedReason }
  | { readonly code: "not-scanned"; readonly bdf: string; readonly guest: string }
  | { readonly code: "bridge-in-guest"; readonly bdf: string; readonly guest: string; readonly place: PlanPlace }
  | {
      readonly code: "rmrr";
      readonly bdf: string;
      readonly guest: string;
      readonly group: number;
      /** the scope entry that names it: itself or a bridge it sits below */
      readonly via: string;
      readonly regions: readonly RmrrRegion[];
      /** "rmr": an IORT RMR that permits remapping */
      readonly relaxable: "usb" | "graphics" | "rmr" | undefined;
      readonly outcome: RmrrOutcome;
      /** where the region comes from: a DMAR RMRR (default) or an IORT RMR node (arm64) */
      readonly table?: "DMAR" | "IORT";
    }
  | { readonly code: "rmrr-not-checked"; readonly iommu: "amd" | "assumed" | "smmuv3" }
  | { readonly code: "alias-conflict"; readonly segment: number; readonly rids: readonly number[]; readonly emitters: readonly RidEmitter[] }
  | {
      readonly code: "sriov-bus-overflow";
      readonly pf: string;
      readonly numVfs: number;
      readonly vf: number;
      readonly bus: number;
      readonly busLimit: number;
      readonly bridge: string | undefined;
    }
  | { readonly code: "pf-with-vfs-to-guest"; readonly pf: string; readonly guest: string; readonly numVfs: number }
  | { readonly code: "acs-unknown"; readonly group: number; readonly guest: string; readonly functions: readonly string[] }
  | {
      readonly code: "kernel-groups-differ";
      readonly group: number;
      readonly kernelGroup: number;
      readonly kernelMembers: readonly string[];
      readonly predicted: readonly string[];
    };

export type FindingCode = Finding["code"];

export function findingSeverity(f: Finding): Severity {
  switch (f.code) {
    case "group-split":
    case "group-not-viable":
    case "driver-not-vfio":
    case "no-group":
    case "not-scanned":
    case "alias-conflict":
    case "sriov-bus-overflow":
      return "error";
    case "rmrr":
      return f.outcome === "refused-core" || f.outcome === "refused-intel" ? "error" : "warning";
    case "bridge-in-guest":
    case "pf-with-vfs-to-guest":
    case "acs-unknown":
    case "kernel-groups-differ":
      return "warning";
    case "rmrr-not-checked":
      return "info";
  }
}
