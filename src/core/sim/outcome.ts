/**
 * What the simulator says about one transaction, as data: the steps it
 * took hop by hop and how it ended. English lives in ./messages.ts.
 */
import type { AcsReason } from "../iommu/acs.js";
import type { Fault } from "../program/faults.js";
import type { Access } from "../program/page-table.js";
import type { FaultRecord } from "./fault-log.js";

export const OUTCOME_KINDS = ["delivered", "faulted", "dropped", "not-issued"] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export const DROP_REASONS = [
  /** ACS Source Validation: the requester ID's bus is outside the port's bus range */
  "acs-violation",
  /** the NTB's requester-ID table has no enabled slot for the requester ID */
  "ntb-requester-not-registered",
  /** the LUT entry the address falls in is not enabled */
  "ntb-lut-entry-disabled",
  /** a translated request aimed at another device's BAR, and the root complex does not forward peer-to-peer */
  "rc-no-p2p",
  /** the request kept crossing NTBs */
  "routing-loop",
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** why a source could not issue the request at all */
export const NOT_ISSUED_REASONS = ["vf-refused", "vf-not-enabled"] as const;
export type NotIssuedReason = (typeof NOT_ISSUED_REASONS)[number];

/** every reason an expectation can name */
export const OUTCOME_REASONS = [...DROP_REASONS, ...NOT_ISSUED_REASONS] as const;

/** what kind of bridge forwarded a request */
export type PortKind = "root-port" | "upstream-port" | "downstream-port" | "pcie-to-pci" | "pci-to-pcie" | "pci-bridge" | "other";

/** how a bridge took ownership of a request from its secondary side */
export type OwnershipRule = "pcie-to-pci" | "pci-to-pcie" | "pci-bridge" | "pcie-bridge-alias";

/** what a request targets in a host: a declared BAR or an NT window */
export type Claim =
  | { readonly kind: "bar"; readonly host: string; readonly bdf: string; readonly bar: number | undefined; readonly base: number; readonly size: number }
  | { readonly kind: "nt-window"; readonly host: string; readonly bdf: string; readonly bar: number; readonly base: number; readonly size: number; readonly partition: number; readonly window: number };

/** one hop or decision; `host` is a host name, or "ntb" for steps inside the switch */
export type Step =
  | {
      readonly code: "issue";
      readonly host: string;
      /** the issuing function, or undefined for the CPU */
      readonly bdf: string | undefined;
      readonly rid: number;
      readonly access: Access;
      readonly address: number;
      readonly size: number;
      /** the bus has ARI forwarding: the function number is 8 bits */
      readonly ari: boolean;
    }
  | { readonly code: "phantom"; readonly host: string; readonly bdf: string; readonly phantomBits: number; readonly phantom: number; readonly rid: number }
  | {
      readonly code: "vf-rid";
      readonly host: string;
      readonly pf: string;
      readonly vf: number;
      readonly offset: number;
      readonly stride: number;
      readonly rid: number;
      /** the VF sits on a bus without a bridge (a virtual bus) */
      readonly virtualBus: boolean;
      readonly forced: boolean;
    }
  | { readonly code: "forged-rid"; readonly host: string; readonly bdf: string; readonly rid: number }
  | { readonly code: "ownership"; readonly host: string; readonly bdf: string; readonly rule: OwnershipRule; readonly from: number; readonly rid: number }
  | {
      readonly code: "acs-sv";
      readonly host: string;
      readonly bdf: string;
      readonly rid: number;
      readonly secondary: number;
      readonly subordinate: number;
      /** SV is implemented and enabled in ACS Control */
      readonly enabled: boolean;
      readonly pass: boolean;
    }
  | { readonly code: "forward-up"; readonly host: string; readonly bdf: string; readonly port: PortKind; readonly rid: number; readonly acsCtrl: number | undefined }
  | {
      readonly code: "p2p";
      readonly host: string;
      /** the port (or multifunction device function) that decides */
      readonly bdf: string;
      readonly target: string;
      readonly decision: "direct" | "redirect";
      /** pci_acs_enabled(port, RR) as the kernel's evaluator answers it; undefined on a conventional PCI bus */
      readonly reason: AcsReason | undefined;
    }
  | { readonly code: "p2p-completion"; readonly host: string; readonly bdf: string; readonly decision: "direct" | "redirect"; readonly reason: AcsReason | undefined }
  | {
      readonly code: "iommu";
      readonly host: string;
      readonly unit: string;
      readonly arch: "vtd" | "amd" | "smmu";
      readonly rid: number;
      readonly address: number;
      readonly ok: boolean;
      /** the host physical address when ok */
      readonly result: number;
      readonly passThrough: boolean;
      readonly domain: string | undefined;
      readonly domainId: number;
      readonly fault: Fault | undefined;
      /** VT-d: was the root entry / context entry present; AMD: was the DTE programmed; SMMU: the StreamID */
      readonly root: boolean | undefined;
      readonly context: boolean | undefined;
      readonly streamId: number;
    }
  | { readonly code: "no-iommu"; readonly host: string; readonly rid: number; readonly address: number }
  | { readonly code: "route-down"; readonly host: string; readonly path: readonly string[]; readonly claim: Claim; readonly viaRootComplex: boolean }
  | { readonly code: "ntb-requester"; readonly host: "ntb"; readonly partition: number; readonly rid: number; readonly slot: number | undefined; readonly proxy: number | undefined; readonly registered: readonly number[] }
  | {
      readonly code: "ntb-window";
      readonly host: "ntb";
      readonly partition: number;
      readonly kind: "direct" | "lut";
      readonly bar: number;
      readonly offset: number;
      readonly lutIndex: number | undefined;
      readonly enabled: boolean;
      readonly target: number;
      readonly address: number;
    }
  | { readonly code: "ntb-egress"; readonly host: string; readonly bdf: string; readonly partition: number; readonly rid: number; readonly address: number }
  | { readonly code: "ntb-completion"; readonly host: "ntb"; readonly partition: number; readonly proxy: number; readonly rid: number };

/** how a transaction ended */
export type Outcome =
  | {
      readonly kind: "delivered";
      readonly host: string;
      /** "memory", or the BDF whose BAR took it */
      readonly to: string;
      readonly address: number;
      /** the requester ID it carried at the end */
      readonly rid: number;
      /** an IOMMU translated it on the way */
      readonly translated: boolean;
      readonly domain: string | undefined;
    }
  | {
      readonly kind: "faulted";
      readonly host: string;
      readonly unit: string;
      readonly rid: number;
      /** the address the IOMMU was asked to translate */
      readonly address: number;
      readonly fault: Fault;
      readonly record: FaultRecord | undefined;
      readonly log: readonly string[];
    }
  | { readonly kind: "dropped"; readonly host: string; readonly at: string; readonly rid: number; readonly address: number; readonly reason: DropReason; readonly log: readonly string[] }
  | { readonly kind: "not-issued"; readonly host: string; readonly at: string; readonly reason: NotIssuedReason; readonly log: readonly string[] };

export interface TlpResult {
  readonly index: number;
  readonly name: string | undefined;
  readonly host: string;
  readonly from: string;
  readonly access: Access;
  readonly address: number;
  readonly size: number;
  readonly steps: readonly Step[];
  readonly outcome: Outcome;
}
