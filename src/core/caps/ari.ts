import { PCI_ARI_CAP, PCI_ARI_CAP_NFN_SHIFT } from "../regs/sriov.js";
import type { CapDecoder } from "./types.js";

export const decodeAri: CapDecoder = (cfg, base) => {
  const cap = cfg.u16(base.offset + PCI_ARI_CAP);
  if (cap === undefined) return undefined;
  return { space: base.space, offset: base.offset, id: base.id, kind: "ari", nextFunction: (cap >> PCI_ARI_CAP_NFN_SHIFT) & 0xff };
};
