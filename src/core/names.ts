import { ACS_FLAG_NAMES } from "./regs/acs.js";
import {
  PCI_EXP_TYPE_DOWNSTREAM,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_TYPE_LEG_END,
  PCI_EXP_TYPE_PCIE_BRIDGE,
  PCI_EXP_TYPE_PCI_BRIDGE,
  PCI_EXP_TYPE_RC_EC,
  PCI_EXP_TYPE_RC_END,
  PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM,
} from "./regs/express.js";
import type { PciFunction } from "./topology/model.js";

/** PCIe device/port type names as lspci prints them */
const PCIE_TYPE_NAMES: Record<number, string> = {
  [PCI_EXP_TYPE_ENDPOINT]: "Endpoint",
  [PCI_EXP_TYPE_LEG_END]: "Legacy Endpoint",
  [PCI_EXP_TYPE_ROOT_PORT]: "Root Port",
  [PCI_EXP_TYPE_UPSTREAM]: "Upstream Port",
  [PCI_EXP_TYPE_DOWNSTREAM]: "Downstream Port",
  [PCI_EXP_TYPE_PCI_BRIDGE]: "PCI-Express to PCI/PCI-X Bridge",
  [PCI_EXP_TYPE_PCIE_BRIDGE]: "PCI/PCI-X to PCI-Express Bridge",
  [PCI_EXP_TYPE_RC_END]: "Root Complex Integrated Endpoint",
  [PCI_EXP_TYPE_RC_EC]: "Root Complex Event Collector",
};

export function pcieTypeName(type: number): string {
  return PCIE_TYPE_NAMES[type] ?? `type ${type.toString(16)}`;
}

/** how a function attaches: its PCIe type, or "conventional PCI" */
export function functionKindName(fn: PciFunction): string {
  if (fn.isVirtfn) return fn.predicted ? "SR-IOV VF (predicted)" : "SR-IOV VF";
  if (!fn.isPcie) return fn.acs.state === "unknown" && fn.config?.capabilitiesKnown === false ? "unknown (no capabilities read)" : "conventional PCI";
  return pcieTypeName(fn.pcieType);
}

/** PCI base class names (PCI Code and ID Assignment spec) */
const BASE_CLASS_NAMES: Record<number, string> = {
  0x00: "Unclassified device",
  0x01: "Mass storage controller",
  0x02: "Network controller",
  0x03: "Display controller",
  0x04: "Multimedia controller",
  0x05: "Memory controller",
  0x06: "Bridge",
  0x07: "Communication controller",
  0x08: "Generic system peripheral",
  0x09: "Input device controller",
  0x0b: "Processor",
  0x0c: "Serial bus controller",
  0x0d: "Wireless controller",
  0x10: "Encryption controller",
  0x11: "Signal processing controller",
  0x12: "Processing accelerators",
  0x13: "Non-Essential Instrumentation",
  0xff: "Unassigned class",
};

/** common subclasses, keyed base << 8 | sub */
const SUB_CLASS_NAMES: Record<number, string> = {
  0x0100: "SCSI storage controller",
  0x0101: "IDE interface",
  0x0104: "RAID bus controller",
  0x0106: "SATA controller",
  0x0107: "Serial Attached SCSI controller",
  0x0108: "Non-Volatile memory controller",
  0x0200: "Ethernet controller",
  0x0280: "Network controller",
  0x0300: "VGA compatible controller",
  0x0302: "3D controller",
  0x0401: "Multimedia audio controller",
  0x0403: "Audio device",
  0x0580: "Memory controller",
  0x0600: "Host bridge",
  0x0601: "ISA bridge",
  0x0604: "PCI bridge",
  0x0607: "CardBus bridge",
  0x0680: "Bridge",
  0x0700: "Serial controller",
  0x0780: "Communication controller",
  0x0805: "SD Host controller",
  0x0806: "IOMMU",
  0x0880: "System peripheral",
  0x0c03: "USB controller",
  0x0c05: "SMBus",
};

/** `Ethernet controller` for 0x020000 */
export function className(classCode: number): string {
  const sub = classCode >> 8;
  return SUB_CLASS_NAMES[sub] ?? BASE_CLASS_NAMES[sub >> 8] ?? `Class ${sub.toString(16).padStart(4, "0")}`;
}

/** `SV+ TB- RR+ …` for the bits a capability implements, lspci style */
export function acsFlagsText(cap: number, ctrl: number): string {
  return ACS_FLAG_NAMES.filter(([, bit]) => cap & bit)
    .map(([name, bit]) => `${name}${ctrl & bit ? "+" : "-"}`)
    .join(" ");
}

/** `SV RR CR` for a bit mask */
export function acsFlagList(mask: number): string {
  return ACS_FLAG_NAMES.filter(([, bit]) => mask & bit)
    .map(([name]) => name)
    .join(" ");
}

export const hex4 = (n: number | undefined): string => (n === undefined ? "????" : n.toString(16).padStart(4, "0"));
