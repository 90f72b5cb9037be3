import type { ConfigSpace } from "../config/space.js";

interface CapBase {
  readonly space: "standard" | "extended";
  readonly offset: number;
  readonly id: number;
}

export interface ExpressCap extends CapBase {
  readonly kind: "express";
  readonly version: number;
  /** device/port type as the register says; the topology holds the kernel-corrected one */
  readonly type: number;
  readonly slotImplemented: boolean;
  readonly devCap: number;
  /** DevCap bits 4:3: 0 none, 1 → fn bit 2, 2 → fn bits 2:1, 3 → all fn bits used as phantom */
  readonly phantomFunctions: number;
  readonly phantomEnabled: boolean | undefined;
  readonly flr: boolean;
  readonly physicalSlot: number | undefined;
  /** ports: ARI forwarding supported / enabled (DevCap2/DevCtl2) */
  readonly ariForwardingSupported: boolean | undefined;
  readonly ariForwardingEnabled: boolean | undefined;
  readonly linkSpeed: number | undefined;
  readonly linkWidth: number | undefined;
}

export interface AcsCap extends CapBase {
  readonly kind: "acs";
  readonly cap: number;
  readonly ctrl: number;
  readonly egressVectorBits: number;
}

export interface AriCap extends CapBase {
  readonly kind: "ari";
  readonly nextFunction: number;
}

export interface SriovCap extends CapBase {
  readonly kind: "sriov";
  readonly vfEnable: boolean;
  readonly ariCapableHierarchy: boolean;
  readonly initialVFs: number;
  readonly totalVFs: number;
  readonly numVFs: number;
  readonly firstVfOffset: number;
  readonly vfStride: number;
  readonly vfDeviceId: number;
}

export interface PmCap extends CapBase {
  readonly kind: "pm";
  readonly version: number;
  readonly powerState: number;
}

export interface MsiCap extends CapBase {
  readonly kind: "msi";
  readonly enabled: boolean;
  readonly maxVectors: number;
  readonly address64: boolean;
  readonly perVectorMask: boolean;
}

export interface MsixCap extends CapBase {
  readonly kind: "msix";
  readonly enabled: boolean;
  readonly tableSize: number;
  readonly tableBar: number;
  readonly tableOffset: number;
}

export interface DsnCap extends CapBase {
  readonly kind: "dsn";
  /** 16 hex digits, high dword first, as lspci prints it without dashes */
  readonly serial: string;
}

export interface VendorCap extends CapBase {
  readonly kind: "vendor";
  readonly length: number;
  /** extended VSEC id; undefined for the standard vendor capability */
  readonly vsecId?: number;
}

/** a capability we do not decode, or one whose bytes were not all read */
export interface UnknownCap extends CapBase {
  readonly kind: "unknown";
  readonly truncated: boolean;
}

export type Capability =
  | ExpressCap
  | AcsCap
  | AriCap
  | SriovCap
  | PmCap
  | MsiCap
  | MsixCap
  | DsnCap
  | VendorCap
  | UnknownCap;

/** one signature for every decoder; undefined when the needed bytes were not read */
export type CapDecoder = (cfg: ConfigSpace, base: CapBase) => Capability | undefined;
export type { CapBase };
