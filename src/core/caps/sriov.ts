import {
  PCI_SRIOV_CTRL,
  PCI_SRIOV_CTRL_ARI,
  PCI_SRIOV_CTRL_VFE,
  PCI_SRIOV_INITIAL_VF,
  PCI_SRIOV_NUM_VF,
  PCI_SRIOV_TOTAL_VF,
  PCI_SRIOV_VF_DID,
  PCI_SRIOV_VF_OFFSET,
  PCI_SRIOV_VF_STRIDE,
} from "../regs/sriov.js";
import type { CapDecoder } from "./types.js";

export const decodeSriov: CapDecoder = (cfg, base) => {
  const o = base.offset;
  const ctrl = cfg.u16(o + PCI_SRIOV_CTRL);
  const vfDeviceId = cfg.u16(o + PCI_SRIOV_VF_DID);
  if (ctrl === undefined || vfDeviceId === undefined) return undefined;
  return {
    space: base.space, offset: base.offset, id: base.id,
    kind: "sriov",
    vfEnable: (ctrl & PCI_SRIOV_CTRL_VFE) !== 0,
    ariCapableHierarchy: (ctrl & PCI_SRIOV_CTRL_ARI) !== 0,
    initialVFs: cfg.u16(o + PCI_SRIOV_INITIAL_VF)!,
    totalVFs: cfg.u16(o + PCI_SRIOV_TOTAL_VF)!,
    numVFs: cfg.u16(o + PCI_SRIOV_NUM_VF)!,
    firstVfOffset: cfg.u16(o + PCI_SRIOV_VF_OFFSET)!,
    vfStride: cfg.u16(o + PCI_SRIOV_VF_STRIDE)!,
    vfDeviceId,
  };
};
