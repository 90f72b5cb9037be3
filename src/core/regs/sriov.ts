/** SR-IOV extended capability (PCIe Base 6.0 §9.3.3) and ARI (§7.8.7). */
export const PCI_SRIOV_CAP = 0x04; // 32 bits
export const PCI_SRIOV_CTRL = 0x08; // 16 bits
export const  PCI_SRIOV_CTRL_VFE = 0x0001; // VF enable
export const  PCI_SRIOV_CTRL_ARI = 0x0010; // ARI capable hierarchy
export const PCI_SRIOV_INITIAL_VF = 0x0c; // 16 bits
export const PCI_SRIOV_TOTAL_VF = 0x0e; // 16 bits
export const PCI_SRIOV_NUM_VF = 0x10; // 16 bits
export const PCI_SRIOV_FUNC_LINK = 0x12; // 8 bits
export const PCI_SRIOV_VF_OFFSET = 0x14; // 16 bits, first VF offset
export const PCI_SRIOV_VF_STRIDE = 0x16; // 16 bits
export const PCI_SRIOV_VF_DID = 0x1a; // 16 bits, VF device id

export const PCI_ARI_CAP = 0x04; // 16 bits
export const  PCI_ARI_CAP_NFN_SHIFT = 8; // next function number, 8 bits
export const PCI_ARI_CTRL = 0x06; // 16 bits

/** Device Serial Number (§7.9.3): 64-bit serial at +0x04 */
export const PCI_DSN_SERIAL = 0x04;

/** Power management (PCI PM 1.2 §3.2) */
export const PCI_PM_PMC = 0x02; // 16 bits
export const PCI_PM_CTRL = 0x04; // 16 bits
export const  PCI_PM_CTRL_STATE_MASK = 0x0003;

/** MSI (PCI 3.0 §6.8.1) */
export const PCI_MSI_FLAGS = 0x02; // 16 bits
export const  PCI_MSI_FLAGS_ENABLE = 0x0001;
export const  PCI_MSI_FLAGS_QMASK = 0x000e; // multiple message capable
export const  PCI_MSI_FLAGS_64BIT = 0x0080;
export const  PCI_MSI_FLAGS_MASKBIT = 0x0100;

/** MSI-X (PCI 3.0 §6.8.2) */
export const PCI_MSIX_FLAGS = 0x02; // 16 bits
export const  PCI_MSIX_FLAGS_QSIZE = 0x07ff; // table size - 1
export const  PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const  PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 0x04; // 32 bits, BIR in bits 2:0
export const PCI_MSIX_PBA = 0x08; // 32 bits

/** vendor-specific capability: length byte at +2 (standard) or bits 31:20 of the header dword at +4 (extended) */
export const PCI_VNDR_LEN = 0x02;
export const PCI_VSEC_HDR = 0x04;
