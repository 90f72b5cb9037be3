/** Type 0/1/2 configuration header registers (PCI Local Bus 3.0 §6.1, PCI-to-PCI Bridge 1.2 §3.2). */
export const PCI_VENDOR_ID = 0x00; // 16 bits
export const PCI_DEVICE_ID = 0x02; // 16 bits
export const PCI_COMMAND = 0x04; // 16 bits
export const PCI_STATUS = 0x06; // 16 bits
export const  PCI_STATUS_CAP_LIST = 0x0010; // capabilities list present
export const PCI_REVISION_ID = 0x08; // 8 bits
export const PCI_CLASS_PROG = 0x09; // 8 bits, programming interface
export const PCI_CLASS_DEVICE = 0x0a; // 16 bits, base << 8 | sub
export const PCI_HEADER_TYPE = 0x0e; // 8 bits
export const  PCI_HEADER_TYPE_MASK = 0x7f; // layout: 0 normal, 1 bridge, 2 CardBus
export const  PCI_HEADER_TYPE_MFD = 0x80; // multi-function device
export const PCI_HEADER_TYPE_NORMAL = 0;
export const PCI_HEADER_TYPE_BRIDGE = 1;
export const PCI_HEADER_TYPE_CARDBUS = 2;

// type 0
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c; // 16 bits
export const PCI_SUBSYSTEM_ID = 0x2e; // 16 bits
export const PCI_CAPABILITY_LIST = 0x34; // 8 bits, first capability pointer (types 0 and 1)

// type 1 (bridge)
export const PCI_PRIMARY_BUS = 0x18; // 8 bits
export const PCI_SECONDARY_BUS = 0x19; // 8 bits
export const PCI_SUBORDINATE_BUS = 0x1a; // 8 bits
export const PCI_SSVID_BRIDGE_FALLBACK = 0x2c; // bridges keep subsystem ids in a capability instead

// type 2 (CardBus)
export const PCI_CB_CAPABILITY_LIST = 0x14; // 8 bits
export const PCI_CB_PRIMARY_BUS = 0x18; // 8 bits, PCI bus number
export const PCI_CB_CARD_BUS = 0x19; // 8 bits, CardBus bus number
export const PCI_CB_SUBORDINATE_BUS = 0x1a; // 8 bits
export const PCI_CB_SUBSYSTEM_VENDOR_ID = 0x40; // 16 bits
export const PCI_CB_SUBSYSTEM_ID = 0x42; // 16 bits

/** config space sizes: unprivileged sysfs read, conventional, PCIe extended */
export const PCI_CFG_SPACE_USER = 64;
export const PCI_CFG_SPACE_SIZE = 256;
export const PCI_CFG_SPACE_EXP_SIZE = 4096;

/** class codes (base << 8 | sub) used by the rules */
export const PCI_CLASS_BRIDGE_HOST = 0x0600;
export const PCI_CLASS_BRIDGE_ISA = 0x0601;
export const PCI_CLASS_BRIDGE_PCI = 0x0604;
export const PCI_CLASS_BRIDGE_OTHER = 0x0680;
export const PCI_CLASS_SERIAL_USB = 0x0c03;
export const PCI_BASE_CLASS_DISPLAY = 0x03;
