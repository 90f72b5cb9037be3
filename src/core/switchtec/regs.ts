/**
 * Switchtec GAS (Global Address Space) register layout in BAR0, as far as
 * the DMA-alias quirk and its capture need it (hw-models §1.2, kernel-spec
 * §6.1). Offsets are bytes from the start of BAR0 unless the name says
 * otherwise; all registers are little-endian.
 */

// top-level blocks
export const SWITCHTEC_GAS_MRPC = 0x000000; // MRPC input/output buffers, cmd/status
export const SWITCHTEC_GAS_TOP_CFG = 0x001000; // top config
export const SWITCHTEC_GAS_SW_EVENT = 0x001800; // switch event registers
export const SWITCHTEC_GAS_SYS_INFO = 0x002000; // sys_info_regs
export const SWITCHTEC_GAS_FLASH_INFO = 0x002200; // flash info
export const SWITCHTEC_GAS_PART_CFG = 0x004000; // part_cfg_regs[], one per partition
export const SWITCHTEC_GAS_NTB = 0x010000; // NTB region (SWITCHTEC_GAS_NTB_OFFSET)
export const SWITCHTEC_GAS_PFF_CSR = 0x134000; // per-port config-space mirrors, 255 entries

// sys_info_regs, relative to SWITCHTEC_GAS_SYS_INFO
export const SYS_INFO_DEVICE_ID = 0x00; // 32 bits
export const SYS_INFO_DEVICE_VERSION = 0x04; // 32 bits
export const SYS_INFO_FIRMWARE_VERSION = 0x08; // 32 bits
export const SYS_INFO_GEN3_PARTITION_ID = 0x18; // 32 bits, gen3 layout; the driver reads its low byte
export const SYS_INFO_GEN3_CFG_RUNNING = 0x20; // 16 bits, gen3
export const SYS_INFO_GEN3_IMG_RUNNING = 0x22; // 16 bits, gen3
export const SYS_INFO_GEN3_VENDOR_ID = 0x108; // 8 bytes, gen3
export const SYS_INFO_GEN3_PRODUCT_ID = 0x110; // 16 bytes, gen3
export const SYS_INFO_GEN4_PARTITION_ID = 0x48; // 32 bits, gen4 and later

// part_cfg_regs
export const PART_CFG_STRIDE = 0x400; // one block per partition at SWITCHTEC_GAS_PART_CFG + p * stride

// NTB region layout, relative to SWITCHTEC_GAS_NTB
export const NTB_INFO = 0x00000; // ntb_info_regs
export const NTB_CTRL = 0x04000; // ntb_ctrl_regs[48] (SWITCHTEC_NTB_REG_CTRL_OFFSET)
export const NTB_CTRL_STRIDE = 0x2000; // bytes per partition
export const NTB_DBMSG = 0x64000; // ntb_dbmsg_regs[48]
export const NTB_DBMSG_STRIDE = 0x4000; // bytes per partition
/** partitions the hardware has control blocks for */
export const SWITCHTEC_MAX_PARTITIONS = 48;

// ntb_info_regs, relative to the NTB region
export const NTB_INFO_PARTITION_COUNT = 0x00; // 8 bits
export const NTB_INFO_PARTITION_ID = 0x01; // 8 bits, this host's partition
export const NTB_INFO_EP_MAP_LO = 0x04; // 32 bits, ep_map bits 31:0 (partitions with an NT endpoint)
export const NTB_INFO_EP_MAP_HI = 0x08; // 32 bits, ep_map bits 63:32
export const NTB_INFO_REQUESTER_ID = 0x0c; // 16 bits, RID the switch captured for this host's bridge
export const NTB_INFO_NTP_INFO = 0x20; // ntp_info[48], 16 bytes each
export const NTP_INFO_STRIDE = 0x10;
export const NTP_INFO_XLINK_ENABLED = 0x00; // 32 bits
export const NTP_INFO_TARGET_PART_LOW = 0x04; // 32 bits
export const NTP_INFO_TARGET_PART_HIGH = 0x08; // 32 bits
/**
 * where the quirk reads the upper ep_map word: it adds 4 to a u64 pointer,
 * 4 × 8 bytes past ep_map, landing on ntp_info[0].target_part_low (§6.1 step 5)
 */
export const NTB_INFO_EP_MAP_HI_AS_READ = NTB_INFO_EP_MAP_LO + 4 * 8; // = 0x24
/** the ntb_info bytes a capture keeps: every field above up to ntp_info[0] */
export const NTB_INFO_CAPTURE_SIZE = 0x40;

// ntb_ctrl_regs, relative to one partition's control block
export const NTB_CTRL_PARTITION_STATUS = 0x000; // 32 bits: 15:0 state, 23:16 lock owner, 31:24 partition id
export const NTB_CTRL_PARTITION_OP = 0x004; // 32 bits: 1 LOCK, 2 CFG, 3 RESET (never written here)
export const NTB_CTRL_PARTITION_CTRL = 0x008; // 32 bits: bit 0 ID_PROT_DIS (older drivers)
export const NTB_CTRL_BAR_SETUP = 0x00c; // 32 bits
export const NTB_CTRL_BAR_ERROR = 0x010; // 32 bits
export const NTB_CTRL_LUT_TABLE_ENTRIES = 0x014; // 16 bits
export const NTB_CTRL_LUT_TABLE_OFFSET = 0x016; // 16 bits
export const NTB_CTRL_LUT_ERROR = 0x018; // 32 bits
export const NTB_CTRL_REQ_ID_TABLE_SIZE = 0x01c; // 16 bits, entries in req_id_table
export const NTB_CTRL_REQ_ID_TABLE_OFFSET = 0x01e; // 16 bits, not read by the quirk
export const NTB_CTRL_REQ_ID_ERROR = 0x020; // 32 bits
export const NTB_CTRL_BAR_ENTRY = 0x040; // bar_entry[6], 16 bytes each
export const NTB_CTRL_BAR_EXT_ENTRY = 0x0a0; // bar_ext_entry[6], 16 bytes each
export const NTB_CTRL_REQ_ID_TABLE = 0x400; // req_id_table[512], 32 bits each
export const NTB_CTRL_LUT_ENTRY = 0x1000; // lut_entry[512], 64 bits each
/** req_id_table capacity; the quirk rejects larger sizes */
export const REQ_ID_TABLE_MAX = 512;
export const REQ_ID_ENTRY_SIZE = 4;
export const LUT_ENTRY_SIZE = 8;

// req_id_table entry fields
export const REQ_ID_EN = 0x00000001; // bit 0, slot enabled (NTB_CTRL_REQ_ID_EN); the quirk ignores it
export const REQ_ID_PROXY_SHIFT = 1; // bits 8:1, proxy devfn assigned by hardware
export const REQ_ID_PROXY_MASK = 0xff;
export const REQ_ID_RID_SHIFT = 16; // bits 31:16, local requester ID the slot admits

// lut_entry fields (64 bits)
export const LUT_EN = 0x1; // bit 0
export const LUT_PARTITION_SHIFT = 1; // bits 6:1, target partition
export const LUT_PARTITION_MASK = 0x3f;

/** BAR0 offset of partition `p`'s ntb_ctrl_regs */
export const ntbCtrlBlock = (p: number): number => SWITCHTEC_GAS_NTB + NTB_CTRL + p * NTB_CTRL_STRIDE;

/** BAR0 offset of req_id_table[te] in partition `p`'s control block */
export const reqIdEntry = (p: number, te: number): number => ntbCtrlBlock(p) + NTB_CTRL_REQ_ID_TABLE + te * REQ_ID_ENTRY_SIZE;

/** BAR0 offset of partition `p`'s part_cfg_regs */
export const partCfgBlock = (p: number): number => SWITCHTEC_GAS_PART_CFG + p * PART_CFG_STRIDE;

/** proxy devfn of a req_id_table entry, as the quirk decodes it: (e >> 1) & 0xff */
export const proxyDevfn = (entry: number): number => (entry >>> REQ_ID_PROXY_SHIFT) & REQ_ID_PROXY_MASK;
