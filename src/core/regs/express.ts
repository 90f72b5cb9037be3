/** PCI Express capability (PCIe Base 6.0 §7.5.3), offsets from the capability start. */
export const PCI_EXP_FLAGS = 0x02; // 16 bits, PCI Express Capabilities
export const  PCI_EXP_FLAGS_VERS = 0x000f; // capability version
export const  PCI_EXP_FLAGS_TYPE = 0x00f0; // device/port type
export const  PCI_EXP_FLAGS_SLOT = 0x0100; // slot implemented
export const PCI_EXP_DEVCAP = 0x04; // 32 bits, Device Capabilities
export const  PCI_EXP_DEVCAP_PAYLOAD = 0x00000007; // max payload size supported
export const  PCI_EXP_DEVCAP_PHANTOM = 0x00000018; // phantom functions supported (bits 4:3)
export const  PCI_EXP_DEVCAP_EXT_TAG = 0x00000020;
export const  PCI_EXP_DEVCAP_FLR = 0x10000000; // function level reset
export const PCI_EXP_DEVCTL = 0x08; // 16 bits
export const  PCI_EXP_DEVCTL_PHANTOM = 0x0200; // phantom functions enable
export const PCI_EXP_LNKCAP = 0x0c; // 32 bits
export const PCI_EXP_LNKSTA = 0x12; // 16 bits
export const PCI_EXP_SLTCAP = 0x14; // 32 bits
export const  PCI_EXP_SLTCAP_PSN_SHIFT = 19; // physical slot number, 13 bits
export const PCI_EXP_DEVCAP2 = 0x24; // 32 bits
export const  PCI_EXP_DEVCAP2_ARI = 0x00000020; // ARI forwarding supported (ports)
export const PCI_EXP_DEVCTL2 = 0x28; // 16 bits
export const  PCI_EXP_DEVCTL2_ARI = 0x0020; // ARI forwarding enable

/** Device/Port type values (bits 7:4 of PCI_EXP_FLAGS). */
export const PCI_EXP_TYPE_ENDPOINT = 0x0;
export const PCI_EXP_TYPE_LEG_END = 0x1;
export const PCI_EXP_TYPE_ROOT_PORT = 0x4;
export const PCI_EXP_TYPE_UPSTREAM = 0x5;
export const PCI_EXP_TYPE_DOWNSTREAM = 0x6;
export const PCI_EXP_TYPE_PCI_BRIDGE = 0x7; // PCIe-to-PCI/PCI-X bridge
export const PCI_EXP_TYPE_PCIE_BRIDGE = 0x8; // PCI/PCI-X-to-PCIe (reverse) bridge
export const PCI_EXP_TYPE_RC_END = 0x9; // root complex integrated endpoint
export const PCI_EXP_TYPE_RC_EC = 0xa; // root complex event collector
