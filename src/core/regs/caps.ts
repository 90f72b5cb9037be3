/** Capability list layout and IDs (PCI Local Bus 3.0 §6.7, PCIe Base 6.0 §7.6, §7.9). */
export const PCI_CAP_LIST_ID = 0; // 8 bits
export const PCI_CAP_LIST_NEXT = 1; // 8 bits
export const PCI_CAP_MAX_WALK = 48; // the kernel's ttl for standard capabilities

export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_SSVID = 0x0d; // bridge subsystem vendor id
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;

export const PCI_EXT_CAP_START = 0x100;
export const PCI_EXT_CAP_MAX_WALK = (4096 - 0x100) / 8; // the kernel's loop guard
export const pciExtCapId = (header: number): number => header & 0xffff;
export const pciExtCapVer = (header: number): number => (header >>> 16) & 0xf;
export const pciExtCapNext = (header: number): number => (header >>> 20) & 0xffc;

export const PCI_EXT_CAP_ID_ERR = 0x0001;
export const PCI_EXT_CAP_ID_DSN = 0x0003;
export const PCI_EXT_CAP_ID_VNDR = 0x000b;
export const PCI_EXT_CAP_ID_ACS = 0x000d;
export const PCI_EXT_CAP_ID_ARI = 0x000e;
export const PCI_EXT_CAP_ID_ATS = 0x000f;
export const PCI_EXT_CAP_ID_SRIOV = 0x0010;
