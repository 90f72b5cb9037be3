import {
  PCI_DSN_SERIAL,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_MSIX_TABLE,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QMASK,
  PCI_PM_CTRL,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_VNDR_LEN,
  PCI_VSEC_HDR,
} from "../regs/sriov.js";
import type { CapDecoder } from "./types.js";

export const decodePm: CapDecoder = (cfg, base) => {
  const pmc = cfg.u16(base.offset + PCI_PM_PMC);
  const ctrl = cfg.u16(base.offset + PCI_PM_CTRL);
  if (pmc === undefined || ctrl === undefined) return undefined;
  return { space: base.space, offset: base.offset, id: base.id, kind: "pm", version: pmc & 0x7, powerState: ctrl & PCI_PM_CTRL_STATE_MASK };
};

export const decodeMsi: CapDecoder = (cfg, base) => {
  const flags = cfg.u16(base.offset + PCI_MSI_FLAGS);
  if (flags === undefined) return undefined;
  return {
    space: base.space, offset: base.offset, id: base.id,
    kind: "msi",
    enabled: (flags & PCI_MSI_FLAGS_ENABLE) !== 0,
    maxVectors: 1 << ((flags & PCI_MSI_FLAGS_QMASK) >> 1),
    address64: (flags & PCI_MSI_FLAGS_64BIT) !== 0,
    perVectorMask: (flags & PCI_MSI_FLAGS_MASKBIT) !== 0,
  };
};

export const decodeMsix: CapDecoder = (cfg, base) => {
  const flags = cfg.u16(base.offset + PCI_MSIX_FLAGS);
  const table = cfg.u32(base.offset + PCI_MSIX_TABLE);
  if (flags === undefined || table === undefined) return undefined;
  return {
    space: base.space, offset: base.offset, id: base.id,
    kind: "msix",
    enabled: (flags & PCI_MSIX_FLAGS_ENABLE) !== 0,
    tableSize: (flags & PCI_MSIX_FLAGS_QSIZE) + 1,
    tableBar: table & 0x7,
    tableOffset: table & ~0x7 >>> 0,
  };
};

export const decodeDsn: CapDecoder = (cfg, base) => {
  const lo = cfg.u32(base.offset + PCI_DSN_SERIAL);
  const hi = cfg.u32(base.offset + PCI_DSN_SERIAL + 4);
  if (lo === undefined || hi === undefined) return undefined;
  return { space: base.space, offset: base.offset, id: base.id, kind: "dsn", serial: hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0") };
};

export const decodeVendor: CapDecoder = (cfg, base) => {
  if (base.space === "standard") {
    const length = cfg.u8(base.offset + PCI_VNDR_LEN);
    return length === undefined ? undefined : { space: base.space, offset: base.offset, id: base.id, kind: "vendor", length };
  }
  const hdr = cfg.u32(base.offset + PCI_VSEC_HDR);
  if (hdr === undefined) return undefined;
  return { space: base.space, offset: base.offset, id: base.id, kind: "vendor", length: hdr >>> 20, vsecId: hdr & 0xffff };
};
