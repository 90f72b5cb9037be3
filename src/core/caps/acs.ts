import { PCI_ACS_CAP, PCI_ACS_CTRL } from "../regs/acs.js";
import type { CapDecoder } from "./types.js";

export const decodeAcs: CapDecoder = (cfg, base) => {
  const cap = cfg.u16(base.offset + PCI_ACS_CAP);
  const ctrl = cfg.u16(base.offset + PCI_ACS_CTRL);
  if (cap === undefined || ctrl === undefined) return undefined;
  return { space: base.space, offset: base.offset, id: base.id, kind: "acs", cap, ctrl, egressVectorBits: cap >> 8 };
};
