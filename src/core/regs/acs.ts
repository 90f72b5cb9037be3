/** Access Control Services extended capability (PCIe Base 6.0 §7.7.8). */
export const PCI_ACS_CAP = 0x04; // 16 bits, ACS Capability
export const PCI_ACS_CTRL = 0x06; // 16 bits, ACS Control
export const PCI_ACS_EGRESS_BITS = 0x05; // 8 bits, egress control vector size (in the cap register's high byte)
export const PCI_ACS_EGRESS_CTL_V = 0x08; // egress control vector

// same bit positions in the capability and control registers
export const PCI_ACS_SV = 0x0001; // source validation
export const PCI_ACS_TB = 0x0002; // translation blocking
export const PCI_ACS_RR = 0x0004; // P2P request redirect
export const PCI_ACS_CR = 0x0008; // P2P completion redirect
export const PCI_ACS_UF = 0x0010; // upstream forwarding
export const PCI_ACS_EC = 0x0020; // P2P egress control
export const PCI_ACS_DT = 0x0040; // direct translated P2P

/** flags in their register order, for rendering */
export const ACS_FLAG_NAMES = [
  ["SV", PCI_ACS_SV],
  ["TB", PCI_ACS_TB],
  ["RR", PCI_ACS_RR],
  ["CR", PCI_ACS_CR],
  ["UF", PCI_ACS_UF],
  ["EC", PCI_ACS_EC],
  ["DT", PCI_ACS_DT],
] as const;

/** the flags the kernel requires for IOMMU group isolation (drivers/iommu/iommu.c REQ_ACS_FLAGS) */
export const REQ_ACS_FLAGS = PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF;
