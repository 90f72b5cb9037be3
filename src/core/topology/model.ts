import type { DecodedConfig } from "../config/decode.js";
import type { ConfigIssue, TopologyIssue } from "../issues.js";

/** what kind of bridge a function is, from its header type and corrected PCIe type */
export type BridgeKind =
  | "root-port"
  | "upstream-port"
  | "downstream-port"
  | "pcie-to-pci"
  | "pci-to-pcie"
  | "pci-bridge"
  | "pcie-bridge-other"
  | "cardbus";

/** ACS as far as the source shows it: absent capability, known registers, or not read */
export type AcsState =
  | { readonly state: "absent" }
  | { readonly state: "present"; readonly offset: number; readonly cap: number; readonly ctrl: number }
  | { readonly state: "unknown" };

export interface PciFunction {
  readonly bdf: string;
  readonly segment: number;
  readonly bus: number;
  readonly devfn: number;
  readonly vendor: number;
  readonly device: number;
  readonly subsystemVendor: number | undefined;
  readonly subsystemDevice: number | undefined;
  /** 24 bits: base << 16 | sub << 8 | prog-if */
  readonly classCode: number;
  readonly revision: number | undefined;
  /** low 7 bits of Header Type: 0 normal, 1 bridge, 2 CardBus */
  readonly headerType: number;
  /** the kernel's flag: header bit 7, forced on for fn > 0, off for VFs */
  readonly multifunction: boolean;
  readonly isPcie: boolean;
  /** PCIe type after the kernel's correction (set_pcie_port_type); 0 for conventional functions */
  readonly pcieType: number;
  /** the type the register says, when it differs from pcieType */
  readonly pcieTypeRegister: number | undefined;
  readonly bridgeKind: BridgeKind | undefined;
  readonly secondary: number | undefined;
  readonly subordinate: number | undefined;
  readonly acs: AcsState;
  /** phantom-function bits from DevCap (0 when not PCIe or not read) */
  readonly phantomFunctions: number;
  readonly isVirtfn: boolean;
  readonly physfn: string | undefined;
  /** a VF computed from the PF's SR-IOV capability, not seen in the source */
  readonly predicted: boolean;
  /** false for functions the kernel's scan would not find (no fn 0, slot ≠ 0 below a port) */
  readonly scanned: boolean;
  readonly driver: string | undefined;
  /** the group the kernel put it in, when the source records it */
  readonly kernelGroup: number | undefined;
  /** the device whose requester ID this function's DMA really uses (an Intel VMD endpoint), if not its own */
  readonly realDmaDev: string | undefined;
  /** bridge above this function's bus (bus->self), undefined on a root or virtual bus */
  readonly upstream: string | undefined;
  readonly config: DecodedConfig | undefined;
  readonly issues: readonly ConfigIssue[];
}

export interface PciBus {
  /** `dddd:bb` */
  readonly key: string;
  readonly segment: number;
  readonly number: number;
  /** the bridge that creates this bus (bus->self); undefined for root and virtual buses */
  readonly self: string | undefined;
  /** `dddd:bb` of the parent bus; undefined for a root bus */
  readonly parent: string | undefined;
  /** a VF bus: a bus number beyond the PF's, created without a bridge */
  readonly virtual: boolean;
  /** ARI forwarding enabled on the bridge above */
  readonly ari: boolean;
  /** functions on this bus, in devfn order */
  readonly functions: readonly string[];
}

export interface Topology {
  /** by BDF */
  readonly functions: ReadonlyMap<string, PciFunction>;
  readonly buses: ReadonlyMap<string, PciBus>;
  /** root buses in host-bridge order */
  readonly roots: readonly string[];
  /** the kernel's registration order (device_add during the scan), then VFs */
  readonly scanOrder: readonly string[];
  readonly issues: readonly TopologyIssue[];
}
