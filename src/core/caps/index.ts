import type { CapLocation } from "../config/walk-caps.js";
import type { ConfigSpace } from "../config/space.js";
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_VNDR,
  PCI_EXT_CAP_ID_ACS,
  PCI_EXT_CAP_ID_ARI,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_EXT_CAP_ID_VNDR,
} from "../regs/caps.js";
import { decodeAcs } from "./acs.js";
import { decodeAri } from "./ari.js";
import { decodeExpress } from "./express.js";
import { decodeDsn, decodeMsi, decodeMsix, decodePm, decodeVendor } from "./misc.js";
import { decodeSriov } from "./sriov.js";
import type { CapDecoder, Capability } from "./types.js";

const standardDecoders: ReadonlyMap<number, CapDecoder> = new Map([
  [PCI_CAP_ID_PM, decodePm],
  [PCI_CAP_ID_MSI, decodeMsi],
  [PCI_CAP_ID_VNDR, decodeVendor],
  [PCI_CAP_ID_EXP, decodeExpress],
  [PCI_CAP_ID_MSIX, decodeMsix],
]);

const extendedDecoders: ReadonlyMap<number, CapDecoder> = new Map([
  [PCI_EXT_CAP_ID_DSN, decodeDsn],
  [PCI_EXT_CAP_ID_VNDR, decodeVendor],
  [PCI_EXT_CAP_ID_ACS, decodeAcs],
  [PCI_EXT_CAP_ID_ARI, decodeAri],
  [PCI_EXT_CAP_ID_SRIOV, decodeSriov],
]);

/** decodes one located capability; unknown IDs and short reads give an "unknown" record */
export function decodeCapability(cfg: ConfigSpace, loc: CapLocation): Capability {
  const base = { space: loc.space, offset: loc.offset, id: loc.id };
  const decoder = (loc.space === "standard" ? standardDecoders : extendedDecoders).get(loc.id);
  if (!decoder) return { space: base.space, offset: base.offset, id: base.id, kind: "unknown", truncated: false };
  return decoder(cfg, base) ?? { space: base.space, offset: base.offset, id: base.id, kind: "unknown", truncated: true };
}

export type {
  AcsCap,
  AriCap,
  Capability,
  DsnCap,
  ExpressCap,
  MsiCap,
  MsixCap,
  PmCap,
  SriovCap,
  UnknownCap,
  VendorCap,
} from "./types.js";
