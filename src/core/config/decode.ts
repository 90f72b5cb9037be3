import { decodeCapability } from "../caps/index.js";
import type { AcsCap, AriCap, Capability, DsnCap, ExpressCap, SriovCap } from "../caps/index.js";
import type { ConfigIssue } from "../issues.js";
import {
  PCI_CAPABILITY_LIST,
  PCI_CB_CAPABILITY_LIST,
  PCI_CB_CARD_BUS,
  PCI_CB_PRIMARY_BUS,
  PCI_CB_SUBORDINATE_BUS,
  PCI_CB_SUBSYSTEM_ID,
  PCI_CB_SUBSYSTEM_VENDOR_ID,
  PCI_CFG_SPACE_SIZE,
  PCI_CFG_SPACE_USER,
  PCI_CLASS_DEVICE,
  PCI_CLASS_PROG,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_CARDBUS,
  PCI_HEADER_TYPE_MASK,
  PCI_HEADER_TYPE_MFD,
  PCI_HEADER_TYPE_NORMAL,
  PCI_PRIMARY_BUS,
  PCI_REVISION_ID,
  PCI_SECONDARY_BUS,
  PCI_SUBORDINATE_BUS,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
} from "../regs/header.js";
import { ConfigSpace } from "./space.js";
import { walkExtendedCaps, walkStandardCaps } from "./walk-caps.js";

export interface BridgeBuses {
  readonly primary: number;
  readonly secondary: number;
  readonly subordinate: number;
}

/** everything read from one function's config space; fields absent from a short dump stay undefined */
export interface DecodedConfig {
  /** the raw dump (quirks read chip-specific registers from it) */
  readonly bytes: Uint8Array;
  /** bytes the source really gave */
  readonly known: number;
  readonly vendor: number;
  readonly device: number;
  /** 24 bits: base << 16 | sub << 8 | prog-if */
  readonly classCode: number;
  readonly revision: number;
  /** low 7 bits of the Header Type register */
  readonly headerType: number;
  /** bit 7 of the Header Type register */
  readonly multifunctionBit: boolean;
  readonly subsystemVendor: number | undefined;
  readonly subsystemDevice: number | undefined;
  readonly bridge: BridgeBuses | undefined;
  readonly capabilities: readonly Capability[];
  /** false when the capability lists could not be read (short dump) */
  readonly capabilitiesKnown: boolean;
  /** false when extended config space (ACS, ARI, SR-IOV, DSN) was not read */
  readonly extendedKnown: boolean;
  readonly express: ExpressCap | undefined;
  readonly acs: AcsCap | undefined;
  readonly ari: AriCap | undefined;
  readonly sriov: SriovCap | undefined;
  readonly dsn: DsnCap | undefined;
  readonly issues: readonly ConfigIssue[];
}

function first<K extends Capability["kind"]>(caps: readonly Capability[], kind: K): Extract<Capability, { kind: K }> | undefined {
  return caps.find((c): c is Extract<Capability, { kind: K }> => c.kind === kind);
}

/** the capabilities the model names, picked from a capability list (the first of each kind, as the kernel's finders do) */
export function namedCapabilities(caps: readonly Capability[]): Pick<DecodedConfig, "express" | "acs" | "ari" | "sriov" | "dsn"> {
  return { express: first(caps, "express"), acs: first(caps, "acs"), ari: first(caps, "ari"), sriov: first(caps, "sriov"), dsn: first(caps, "dsn") };
}

export interface DecodeOptions {
  /** bytes really read (default: all given) */
  readonly known?: number;
  /**
   * the dump holds all the config space the kernel exposes (a root read of
   * sysfs `config`, whose size is the kernel's own cfg_size): a 256-byte
   * PCIe dump then means "no extended space", not "not read"
   */
  readonly complete?: boolean;
}

/**
 * Decodes a config space dump. Never throws: a short, all-ones or malformed
 * dump becomes issues and undefined fields. Returns undefined only when not
 * even the 16-byte identity part is there.
 */
export function decodeConfig(bytes: Uint8Array, opts: DecodeOptions = {}): { config: DecodedConfig | undefined; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const cfg = new ConfigSpace(bytes, opts.known ?? bytes.byteLength);
  const vendor = cfg.u16(PCI_VENDOR_ID);
  const device = cfg.u16(PCI_DEVICE_ID);
  const header = cfg.u8(PCI_HEADER_TYPE);
  if (vendor === undefined || device === undefined || header === undefined) {
    issues.push(cfg.known === 0 ? { code: "config-absent" } : { code: "config-short", known: cfg.known });
    return { config: undefined, issues };
  }
  if (vendor === 0xffff && device === 0xffff) issues.push({ code: "config-all-ones", offset: 0 });
  if (cfg.known < PCI_CFG_SPACE_SIZE && opts.complete !== true) issues.push({ code: "config-short", known: cfg.known });

  const headerType = header & PCI_HEADER_TYPE_MASK;
  let bridge: BridgeBuses | undefined;
  let subsystemVendor: number | undefined;
  let subsystemDevice: number | undefined;
  let capPointer: number | undefined;
  if (headerType === PCI_HEADER_TYPE_NORMAL) {
    subsystemVendor = cfg.u16(PCI_SUBSYSTEM_VENDOR_ID);
    subsystemDevice = cfg.u16(PCI_SUBSYSTEM_ID);
    capPointer = PCI_CAPABILITY_LIST;
  } else if (headerType === PCI_HEADER_TYPE_BRIDGE) {
    bridge = { primary: cfg.u8(PCI_PRIMARY_BUS)!, secondary: cfg.u8(PCI_SECONDARY_BUS)!, subordinate: cfg.u8(PCI_SUBORDINATE_BUS)! };
    capPointer = PCI_CAPABILITY_LIST;
  } else if (headerType === PCI_HEADER_TYPE_CARDBUS) {
    bridge = { primary: cfg.u8(PCI_CB_PRIMARY_BUS)!, secondary: cfg.u8(PCI_CB_CARD_BUS)!, subordinate: cfg.u8(PCI_CB_SUBORDINATE_BUS)! };
    subsystemVendor = cfg.u16(PCI_CB_SUBSYSTEM_VENDOR_ID);
    subsystemDevice = cfg.u16(PCI_CB_SUBSYSTEM_ID);
    capPointer = PCI_CB_CAPABILITY_LIST;
  } else {
    issues.push({ code: "header-type-unknown", offset: PCI_HEADER_TYPE, headerType });
  }

  const allOnes = vendor === 0xffff;
  const locations = capPointer === undefined || allOnes ? [] : walkStandardCaps(cfg, capPointer, issues);
  const capabilitiesKnown = cfg.known > PCI_CFG_SPACE_USER && !allOnes;
  // only PCIe functions have an extended space (pci_cfg_space_size)
  const isExpress = locations.some((l) => l.id === 0x10);
  const extendedRead = cfg.known > PCI_CFG_SPACE_SIZE && !allOnes;
  if (extendedRead && isExpress) locations.push(...walkExtendedCaps(cfg, issues));
  const extendedKnown = capabilitiesKnown && (!isExpress || extendedRead || opts.complete === true);
  const capabilities = locations.map((loc) => decodeCapability(cfg, loc));
  for (const c of capabilities) {
    if (c.kind === "unknown" && c.truncated) issues.push({ code: "cap-truncated", offset: c.offset, capId: c.id, need: 4 });
  }
  const config: DecodedConfig = {
    bytes: cfg.bytes.subarray(0, cfg.known),
    known: cfg.known,
    vendor,
    device,
    classCode: (cfg.u16(PCI_CLASS_DEVICE)! << 8) | cfg.u8(PCI_CLASS_PROG)!,
    revision: cfg.u8(PCI_REVISION_ID)!,
    headerType,
    multifunctionBit: (header & PCI_HEADER_TYPE_MFD) !== 0,
    subsystemVendor,
    subsystemDevice,
    bridge,
    capabilities,
    capabilitiesKnown,
    extendedKnown,
    ...namedCapabilities(capabilities),
    issues,
  };
  return { config, issues };
}
