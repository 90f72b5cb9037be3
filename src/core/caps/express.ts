import {
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP2,
  PCI_EXP_DEVCAP2_ARI,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCAP_PHANTOM,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL2,
  PCI_EXP_DEVCTL2_ARI,
  PCI_EXP_DEVCTL_PHANTOM,
  PCI_EXP_FLAGS,
  PCI_EXP_FLAGS_SLOT,
  PCI_EXP_FLAGS_TYPE,
  PCI_EXP_FLAGS_VERS,
  PCI_EXP_LNKSTA,
  PCI_EXP_SLTCAP,
  PCI_EXP_SLTCAP_PSN_SHIFT,
} from "../regs/express.js";
import type { CapDecoder } from "./types.js";

export const decodeExpress: CapDecoder = (cfg, base) => {
  const o = base.offset;
  const flags = cfg.u16(o + PCI_EXP_FLAGS);
  const devCap = cfg.u32(o + PCI_EXP_DEVCAP);
  if (flags === undefined || devCap === undefined) return undefined;
  const version = flags & PCI_EXP_FLAGS_VERS;
  const slotImplemented = (flags & PCI_EXP_FLAGS_SLOT) !== 0;
  const devCtl = cfg.u16(o + PCI_EXP_DEVCTL);
  const lnkSta = cfg.u16(o + PCI_EXP_LNKSTA);
  const sltCap = slotImplemented ? cfg.u32(o + PCI_EXP_SLTCAP) : undefined;
  // version 1 capabilities may stop before DevCap2
  const devCap2 = version >= 2 ? cfg.u32(o + PCI_EXP_DEVCAP2) : undefined;
  const devCtl2 = version >= 2 ? cfg.u16(o + PCI_EXP_DEVCTL2) : undefined;
  return {
    space: base.space, offset: base.offset, id: base.id,
    kind: "express",
    version,
    type: (flags & PCI_EXP_FLAGS_TYPE) >> 4,
    slotImplemented,
    devCap,
    phantomFunctions: (devCap & PCI_EXP_DEVCAP_PHANTOM) >> 3,
    phantomEnabled: devCtl === undefined ? undefined : (devCtl & PCI_EXP_DEVCTL_PHANTOM) !== 0,
    flr: (devCap & PCI_EXP_DEVCAP_FLR) !== 0,
    physicalSlot: sltCap === undefined ? undefined : sltCap >>> PCI_EXP_SLTCAP_PSN_SHIFT,
    ariForwardingSupported: devCap2 === undefined ? undefined : (devCap2 & PCI_EXP_DEVCAP2_ARI) !== 0,
    ariForwardingEnabled: devCtl2 === undefined ? undefined : (devCtl2 & PCI_EXP_DEVCTL2_ARI) !== 0,
    linkSpeed: lnkSta === undefined ? undefined : lnkSta & 0xf,
    linkWidth: lnkSta === undefined ? undefined : (lnkSta >> 4) & 0x3f,
  };
};
