import { devfnOf } from "../topology/address.js";
import type { AliasEffect, QuirkRow } from "./row.js";

const QUIRKS_C = "torvalds/linux drivers/pci/quirks.c";

const span = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/*
 * Function-0 aliases (Ricoh).
 * Some Ricoh multi-function card readers issue DMA for every function with
 * the requester ID of function 0. The IOMMU must therefore accept function
 * 0's RID for the other functions, so they are tied to function 0.
 */
const FUNC0_ROWS: readonly QuirkRow<AliasEffect>[] = [
  {
    id: "dma-func0-alias/ricoh",
    match: { vendor: 0x1180, device: [0xe832, 0xe476] },
    pass: "header",
    effect: { kind: "alias-function", fn: 0 },
    reason: "Ricoh card reader functions send DMA as function 0",
    ref: `${QUIRKS_C} quirk_dma_func0_alias`,
    kernels: { since: "≈3.15" },
  },
];

/*
 * Function-1 aliases (Marvell SATA and its relatives).
 * Many Marvell SATA controllers, and parts built around the same core, send
 * some DMA (often command completions) with the RID of function 1 even when
 * function 1 does not exist. Without the alias the IOMMU faults those
 * transfers; with it, a ghost RID (slot, 1) is mapped as well.
 */
const FUNC1_ROWS: readonly QuirkRow<AliasEffect>[] = [
  {
    id: "dma-func1-alias/marvell",
    match: {
      vendor: 0x1b4b,
      device: [
        0x9120, 0x9123, 0x9125, 0x9128, 0x9130, 0x9170, 0x9172, 0x917a, 0x9182, 0x9183, 0x91a0, 0x9215, 0x9220, 0x9230,
        0x9235,
      ],
    },
    pass: "header",
    effect: { kind: "alias-function", fn: 1 },
    reason: "Marvell SATA controllers send some DMA as function 1, which often does not exist",
    ref: `${QUIRKS_C} quirk_dma_func1_alias`,
    kernels: { since: "≈3.15" },
  },
  {
    id: "dma-func1-alias/highpoint",
    match: { vendor: 0x1103, device: [0x0642, 0x0645] },
    pass: "header",
    effect: { kind: "alias-function", fn: 1 },
    reason: "HighPoint/TTI RAID cards built on a Marvell core send some DMA as function 1",
    ref: `${QUIRKS_C} quirk_dma_func1_alias`,
    kernels: { since: "≈3.15" },
  },
  {
    id: "dma-func1-alias/jmicron-jmb388",
    match: { vendor: 0x197b, device: 0x2392 },
    pass: "header",
    effect: { kind: "alias-function", fn: 1 },
    reason: "JMicron JMB388 ESD sends some DMA as function 1",
    ref: `${QUIRKS_C} quirk_dma_func1_alias`,
    kernels: { since: "≈3.15" },
  },
  {
    id: "dma-func1-alias/liteon-plextor-m6e",
    match: { vendor: 0x1c28, device: 0x0122 },
    pass: "header",
    effect: { kind: "alias-function", fn: 1 },
    reason: "Plextor M6E SSD (Marvell 88SS9183 under a Lite-On id) sends some DMA as function 1",
    ref: `${QUIRKS_C} quirk_dma_func1_alias`,
    kernels: { since: "≈3.15" },
  },
];

/*
 * Fixed aliases selected by subsystem (Adaptec 3405/3805).
 * These Adaptec RAID cards place a PCIe-to-PCI bridge and the controller on
 * one board; the controller's DMA arrives with the RID of device 01.0 on its
 * bus, whatever devfn the controller itself has. Only the two board models
 * (subsystem ids) with this layout are affected, not every 0x0285.
 */
const FIXED_ROWS: readonly QuirkRow<AliasEffect>[] = [
  {
    id: "fixed-dma-alias/adaptec-3405",
    match: { vendor: 0x9005, device: 0x0285, subsystemVendor: 0x9005, subsystemDevice: 0x02bb },
    pass: "header",
    effect: { kind: "alias-devfn", devfns: [devfnOf(1, 0)] },
    reason: "Adaptec 3405 controller DMA arrives as devfn 01.0 of its bus",
    ref: `${QUIRKS_C} quirk_fixed_dma_alias`,
  },
  {
    id: "fixed-dma-alias/adaptec-3805",
    match: { vendor: 0x9005, device: 0x0285, subsystemVendor: 0x9005, subsystemDevice: 0x02bc },
    pass: "header",
    effect: { kind: "alias-devfn", devfns: [devfnOf(1, 0)] },
    reason: "Adaptec 3805 controller DMA arrives as devfn 01.0 of its bus",
    ref: `${QUIRKS_C} quirk_fixed_dma_alias`,
  },
];

/*
 * PCIe-to-PCI bridges that hide their PCIe capability.
 * These bridges sit on a PCIe link but present themselves as conventional
 * PCI-PCI bridges. Like a real PCIe-to-PCI bridge they tag forwarded DMA
 * with (secondary bus, 00.0) rather than their own RID, so the flag tells the
 * alias walk to use that RID. The flag is only set when the bridge is below a
 * PCIe bridge that is not itself a PCIe-to-PCI bridge (checked in apply.ts).
 */
const BRIDGE_ROWS: readonly QuirkRow<AliasEffect>[] = [
  {
    id: "pcie-bridge-alias/asmedia-asm1083",
    match: { vendor: 0x1b21, device: 0x1080 },
    pass: "header",
    effect: { kind: "flag", flag: "pcie-bridge-alias" },
    reason: "ASMedia ASM1083/1085 is a PCIe-to-PCI bridge without a PCIe capability",
    ref: `${QUIRKS_C} quirk_use_pcie_bridge_dma_alias`,
    kernels: { since: "≈3.15" },
  },
  {
    id: "pcie-bridge-alias/tundra-8113",
    match: { vendor: 0x10e3, device: 0x8113 },
    pass: "header",
    effect: { kind: "flag", flag: "pcie-bridge-alias" },
    reason: "Tundra 8113 is a PCIe-to-PCI bridge without a PCIe capability",
    ref: `${QUIRKS_C} quirk_use_pcie_bridge_dma_alias`,
    kernels: { since: "≈3.15" },
  },
  {
    id: "pcie-bridge-alias/ite-8892",
    match: { vendor: 0x1283, device: [0x8892, 0x8893] },
    pass: "header",
    effect: { kind: "flag", flag: "pcie-bridge-alias" },
    reason: "ITE 8892/8893 is a PCIe-to-PCI bridge without a PCIe capability",
    ref: `${QUIRKS_C} quirk_use_pcie_bridge_dma_alias`,
    kernels: { since: "≈3.15" },
  },
  {
    id: "pcie-bridge-alias/intel-82801",
    match: { vendor: 0x8086, device: 0x244e },
    pass: "header",
    effect: { kind: "flag", flag: "pcie-bridge-alias" },
    reason: "Intel 82801 PCI bridge (244e) forwards DMA as its secondary bus 00.0 when below PCIe",
    ref: `${QUIRKS_C} quirk_use_pcie_bridge_dma_alias`,
    kernels: { since: "≈3.15" },
  },
];

/*
 * NTB and accelerator aliases (Intel Xeon Phi x200, Intel VCA, PLX).
 * Non-transparent bridges and accelerator cards forward DMA on behalf of a
 * remote side using proxy requester IDs on the card's own bus. The kernel
 * cannot learn which proxies are used, so it allows a fixed set: three
 * devfns for the Xeon Phi x200, fns 0-4 of every slot for the VCA, and every
 * devfn of the bus for PLX NT functions (the own devfn included).
 */
const VCA_DEVFNS: readonly number[] = span(0, 31).flatMap((slot) => span(0, 4).map((fn) => devfnOf(slot, fn)));

const NTB_ROWS: readonly QuirkRow<AliasEffect>[] = [
  {
    id: "mic-x200-dma-alias/xeon-phi-x200",
    match: { vendor: 0x8086, device: [0x2260, 0x2264] },
    pass: "header",
    effect: { kind: "alias-devfn", devfns: [devfnOf(0x10, 0), devfnOf(0x11, 0), devfnOf(0x12, 3)] },
    reason: "Xeon Phi x200 NTB forwards host DMA as 10.0, 11.0 and 12.3 of its bus",
    ref: `${QUIRKS_C} quirk_mic_x200_dma_alias`,
    // three aliases need the multi-alias mask
    kernels: { since: "≈4.6" },
  },
  {
    id: "pex-vca-alias/intel-vca",
    match: { vendor: 0x8086, device: [0x2954, 0x2955, 0x2956, 0x2958, 0x2959, 0x295a] },
    pass: "header",
    effect: { kind: "alias-devfn", devfns: VCA_DEVFNS },
    reason: "Intel Visual Compute Accelerator forwards DMA as functions 0-4 of any slot on its bus",
    ref: `${QUIRKS_C} quirk_pex_vca_alias`,
    kernels: { since: "≈4.6" },
  },
  {
    id: "plx-ntb-dma-alias/plx-pex",
    match: { vendor: 0x10b5, device: [0x87b0, 0x87b1] },
    pass: "header",
    effect: { kind: "alias-range", from: 0x00, count: 256 },
    reason: "PLX NT function forwards DMA with proxy ids that can be any devfn of its bus",
    ref: `${QUIRKS_C} quirk_plx_ntb_dma_alias`,
    kernels: { since: "≈5.5" },
  },
];

/*
 * Switchtec NT endpoints (Microsemi/Microchip, vendor 0x11f8 and 0x1055).
 * The NT endpoint forwards DMA from other partitions with proxy requester
 * IDs that firmware programs into per-partition tables in BAR0. The kernel
 * reads those tables at the final fixup pass; here the rows only mark the
 * function, the register decoding lives elsewhere. Since ≈5.1 only the NT
 * function (class 0x0680xx) is matched; before that every Switchtec function
 * was, which only produced "Cannot iomap" errors on ports.
 */
const SWITCHTEC_GEN3 = [
  ...span(0x8531, 0x8536), // PFX
  ...span(0x8541, 0x8546), // PSX
  ...span(0x8551, 0x8556), // PAX
  ...span(0x8561, 0x8566), // PFXL
  ...span(0x8571, 0x8576), // PFXI
];
const SWITCHTEC_GEN4 = [
  0x4000, 0x4084, 0x4068, 0x4052, 0x4036, 0x4028, // PFX
  0x4100, 0x4184, 0x4168, 0x4152, 0x4136, 0x4128, // PSX
  0x4200, 0x4284, 0x4268, 0x4252, 0x4236, 0x4228, // PAX
];
const SWITCHTEC_GEN4_A = [
  0x4352, 0x4336, 0x4328, // PFXA
  0x4452, 0x4436, 0x4428, // PSXA
  0x4552, 0x4536, 0x4528, // PAXA
];
const SWITCHTEC_GEN5 = [
  0x5000, 0x5084, 0x5068, 0x5052, 0x5036, 0x5028, // PFX
  0x5100, 0x5184, 0x5168, 0x5152, 0x5136, 0x5128, // PSX
  0x5200, 0x5284, 0x5268, 0x5252, 0x5236, 0x5228, // PAX
  0x5300, 0x5384, 0x5368, 0x5352, 0x5336, 0x5328, // PFXA
  0x5400, 0x5484, 0x5468, 0x5452, 0x5436, 0x5428, // PSXA
  0x5500, 0x5584, 0x5568, 0x5552, 0x5536, 0x5528, // PAXA
];

const NT_CLASS = { classCode: 0x068000, classMask: 0xffff00 } as const;
const SWITCHTEC_REF = `${QUIRKS_C} quirk_switchtec_ntb_dma_alias`;

const SWITCHTEC_ROWS: readonly QuirkRow<AliasEffect>[] = [
  {
    id: "switchtec-ntb-dma-alias/gen3-any-class",
    match: { vendor: 0x11f8, device: SWITCHTEC_GEN3 },
    pass: "final",
    effect: { kind: "switchtec-proxy" },
    reason: "first version ran on every Switchtec function, ports and management endpoint included",
    ref: `${SWITCHTEC_REF}; commit ad281ecf1c7d`,
    kernels: { since: "≈4.16", until: "≈5.1" },
  },
  {
    id: "switchtec-ntb-dma-alias/gen3",
    match: { vendor: 0x11f8, device: SWITCHTEC_GEN3, ...NT_CLASS },
    pass: "final",
    effect: { kind: "switchtec-proxy" },
    reason: "Gen3 Switchtec NT endpoint forwards DMA with proxy ids programmed in BAR0",
    ref: `${SWITCHTEC_REF}; commits ad281ecf1c7d, 01d5d7fa8376, 742bbe1ee35b`,
    kernels: { since: "≈5.1" },
  },
  {
    id: "switchtec-ntb-dma-alias/gen4",
    match: { vendor: 0x11f8, device: SWITCHTEC_GEN4, ...NT_CLASS },
    pass: "final",
    effect: { kind: "switchtec-proxy" },
    reason: "Gen4 Switchtec NT endpoint forwards DMA with proxy ids programmed in BAR0",
    ref: SWITCHTEC_REF,
    kernels: { since: "≈5.9" },
  },
  {
    id: "switchtec-ntb-dma-alias/gen4-automotive",
    match: { vendor: 0x11f8, device: SWITCHTEC_GEN4_A, ...NT_CLASS },
    pass: "final",
    effect: { kind: "switchtec-proxy" },
    // added after the Gen4 ids, before 6.10; 5.9 is only a lower bound
    reason: "Gen4 automotive (A) Switchtec NT endpoint forwards DMA with proxy ids programmed in BAR0",
    ref: SWITCHTEC_REF,
    kernels: { since: "≈5.9" },
  },
  {
    id: "switchtec-ntb-dma-alias/gen5",
    match: { vendor: 0x11f8, device: SWITCHTEC_GEN5, ...NT_CLASS },
    pass: "final",
    effect: { kind: "switchtec-proxy" },
    // added after the Gen4 ids, before 6.10; 5.9 is only a lower bound
    reason: "Gen5 Switchtec NT endpoint forwards DMA with proxy ids programmed in BAR0",
    ref: SWITCHTEC_REF,
    kernels: { since: "≈5.9" },
  },
  {
    id: "switchtec-ntb-dma-alias/pci100x",
    match: { vendor: 0x1055, device: span(0x1001, 0x1006), ...NT_CLASS },
    pass: "final",
    effect: { kind: "switchtec-proxy" },
    reason: "Microchip PCI1001-PCI1006 (Switchtec core under the EFAR vendor id) NT endpoint",
    ref: `${SWITCHTEC_REF}; linux-pci PCI100x id patch, applied for v6.14`,
    kernels: { since: "≈6.14" },
  },
  {
    id: "switchtec-ntb-dma-alias/pci1008",
    match: { vendor: 0x1055, device: 0x1008, ...NT_CLASS },
    pass: "final",
    effect: { kind: "switchtec-proxy" },
    reason: "Microchip PCI1008 NT endpoint; proposed Jul 2026, not known to be merged",
    ref: `${SWITCHTEC_REF}; linux-pci proposal (Jul 2026)`,
    kernels: { since: "unknown" },
  },
];

/*
 * Root ports that translate requester IDs (Broadcom/Cavium ThunderX2).
 * The Vulcan/ThunderX2 PCIe root bridges present the IOMMU with the RID of
 * the device below them as-is, so bridges above this point must not add
 * aliases. The flag stops the alias walk at the flagged bridge.
 */
const XLATE_ROWS: readonly QuirkRow<AliasEffect>[] = [
  {
    id: "bridge-xlate-root/cavium-thunderx2",
    match: { vendor: 0x14e4, device: [0x9000, 0x9084] },
    pass: "header",
    effect: { kind: "flag", flag: "xlate-root" },
    reason: "ThunderX2 root bridge: RIDs above it are not what the IOMMU sees",
    ref: `${QUIRKS_C} quirk_bridge_cavm_thrx2_pcie_root`,
    kernels: { since: "≈4.13" },
  },
];

/** every DMA-alias and alias-walk flag quirk of spec §6; order does not matter, every matching row applies */
export const ALIAS_QUIRK_ROWS: readonly QuirkRow<AliasEffect>[] = [
  ...FUNC0_ROWS,
  ...FUNC1_ROWS,
  ...FIXED_ROWS,
  ...BRIDGE_ROWS,
  ...NTB_ROWS,
  ...SWITCHTEC_ROWS,
  ...XLATE_ROWS,
];
