import { atLeast } from "../kernel/version.js";
import type { KernelVersion } from "../kernel/version.js";
import { GasReader } from "./gas-image.js";
import type { GasImage, GasRange } from "./gas-image.js";
import {
  SWITCHTEC_SETTING_ALIASES,
  switchtecAliasing,
  switchtecProcessing,
  switchtecTableSizeInvalid,
  switchtecTableSizeZero,
} from "./kernel-messages.js";
import {
  NTB_CTRL_REQ_ID_TABLE_SIZE,
  NTB_INFO_EP_MAP_HI,
  NTB_INFO_EP_MAP_HI_AS_READ,
  NTB_INFO_EP_MAP_LO,
  NTB_INFO_PARTITION_ID,
  REQ_ID_ENTRY_SIZE,
  REQ_ID_TABLE_MAX,
  SWITCHTEC_GAS_NTB,
  ntbCtrlBlock,
  proxyDevfn,
  reqIdEntry,
} from "./regs.js";

/** a warning the kernel prints (pci_warn), with the partition it is about */
export interface ProxyAliasWarning {
  readonly text: string;
  readonly partition: number;
}

/** one pci_add_dma_alias call: table slot `index` of `partition` held `entry` */
export interface ProxyAliasEntry {
  readonly partition: number;
  readonly index: number;
  /** the raw req_id_table dword */
  readonly entry: number;
  /** (entry >> 1) & 0xff, a devfn on the NT function's own bus */
  readonly devfn: number;
  /** bit 0 of the entry; the quirk aliases the slot either way */
  readonly enabled: boolean;
}

/** what the quirk did with one partition of its map */
export interface ProxyPartition {
  readonly partition: number;
  /** req_id_table_size as read; undefined when not captured */
  readonly tableSize: number | undefined;
  readonly outcome: "aliased" | "table-size-zero" | "table-size-invalid" | "not-captured";
}

/** a register the quirk reads that the image does not hold */
export interface MissingRegister extends GasRange {
  /** `ntb_info.partition_id`, `ntb_ctrl[2].req_id_table[0..3]` */
  readonly register: string;
}

export interface ProxyAliasResult {
  /** alias devfns in the order the quirk first adds them (a devfn added again is not repeated) */
  readonly devfns: readonly number[];
  /** every pci_add_dma_alias call, in order, repeats included */
  readonly entries: readonly ProxyAliasEntry[];
  /** the partitions the quirk visited, ascending */
  readonly partitions: readonly ProxyPartition[];
  /** the kernel's own warnings */
  readonly warnings: readonly ProxyAliasWarning[];
  /** the kernel's info and debug lines, in order */
  readonly log: readonly string[];
  /** "incomplete": some register the quirk reads was not captured; devfns is then a lower bound */
  readonly status: "ok" | "incomplete";
  readonly missing: readonly MissingRegister[];
  /** ntb_info.partition_id, when captured */
  readonly ownPartition: number | undefined;
  /** where the upper endpoint-map word was read: 0x24 (the kernel's slip) or 0x08 */
  readonly mapHiOffset: number;
  /** problems of the image itself (a damaged excerpt), passed through */
  readonly imageIssues: readonly string[];
}

export interface ProxyAliasOptions {
  /** the modelled kernel; decides the map_hi read once a fixed release is known */
  readonly kernel?: KernelVersion | undefined;
  /**
   * read the upper ep_map word at ntb_info+0x08 as intended, not at +0x24
   * where the kernel's pointer arithmetic lands. Default: false (every
   * known release has the slip), unless `kernel` is at or past a release
   * known to fix it.
   */
  readonly fixedMapHi?: boolean | undefined;
}

/** first release known to read ep_map's upper word at +0x08; none known (kernel-spec §6.1 step 5) */
const MAP_HI_FIXED_SINCE: KernelVersion | undefined = undefined;

const PARTITION_BITS = 64;

function mapHiFixed(opts: ProxyAliasOptions): boolean {
  if (opts.fixedMapHi !== undefined) return opts.fixedMapHi;
  const since = MAP_HI_FIXED_SINCE;
  return since !== undefined && opts.kernel !== undefined && atLeast(opts.kernel, since.major, since.minor);
}

/**
 * quirk_switchtec_ntb_dma_alias (kernel-spec §6.1) over a BAR0 image: the
 * proxy requester IDs of every other NT partition become DMA aliases of
 * the NT function, on its own bus. Bug-compatible: the upper endpoint-map
 * word comes from ntb_info+0x24, bit 0 (enable) of table entries is not
 * looked at, so an unprogrammed entry 0 aliases devfn 00.0.
 *
 * Enabling the device and mapping BAR0 are taken as done; registers the
 * image lacks are listed in `missing` and make the result "incomplete".
 */
export function proxyAliases(image: GasImage, opts: ProxyAliasOptions = {}): ProxyAliasResult {
  const gas = new GasReader(image);
  const log: string[] = [SWITCHTEC_SETTING_ALIASES];
  const warnings: ProxyAliasWarning[] = [];
  const missing: MissingRegister[] = [];
  const entries: ProxyAliasEntry[] = [];
  const partitions: ProxyPartition[] = [];
  const devfns: number[] = [];
  const mapHiOffset = mapHiFixed(opts) ? NTB_INFO_EP_MAP_HI : NTB_INFO_EP_MAP_HI_AS_READ;

  const read = (size: 1 | 2 | 4, offset: number, register: string): number | undefined => {
    const v = size === 1 ? gas.u8(offset) : size === 2 ? gas.u16(offset) : gas.u32(offset);
    if (v === undefined) missing.push({ offset, size, register });
    return v;
  };
  const ntb = SWITCHTEC_GAS_NTB;
  const own = read(1, ntb + NTB_INFO_PARTITION_ID, "ntb_info.partition_id");
  const mapLo = read(4, ntb + NTB_INFO_EP_MAP_LO, "ntb_info.ep_map (low word)");
  const mapHi = read(4, ntb + mapHiOffset, mapHiOffset === NTB_INFO_EP_MAP_HI ? "ntb_info.ep_map (high word)" : "ntb_info.ntp_info[0].target_part_low (read as ep_map high word)");
  const done = (): ProxyAliasResult => ({
    devfns,
    entries,
    partitions,
    warnings,
    log,
    status: missing.length === 0 ? "ok" : "incomplete",
    missing,
    ownPartition: own,
    mapHiOffset,
    imageIssues: image.issues,
  });
  if (own === undefined || mapLo === undefined || mapHi === undefined) return done();

  // 1ULL << partition: x86 masks the shift count to 6 bits
  const ownBit = own & (PARTITION_BITS - 1);
  const words = [ownBit < 32 ? mapLo & ~(1 << ownBit) : mapLo, ownBit >= 32 ? mapHi & ~(1 << (ownBit - 32)) : mapHi];
  const seen = new Set<number>();

  for (let pp = 0; pp < PARTITION_BITS; pp++) {
    if (((words[pp >> 5]! >>> (pp & 31)) & 1) === 0) continue;
    log.push(switchtecProcessing(pp));
    const size = read(2, ntbCtrlBlock(pp) + NTB_CTRL_REQ_ID_TABLE_SIZE, `ntb_ctrl[${pp}].req_id_table_size`);
    if (size === undefined) {
      partitions.push({ partition: pp, tableSize: undefined, outcome: "not-captured" });
      continue;
    }
    if (size === 0) {
      warnings.push({ text: switchtecTableSizeZero(pp), partition: pp });
      partitions.push({ partition: pp, tableSize: 0, outcome: "table-size-zero" });
      continue;
    }
    if (size > REQ_ID_TABLE_MAX) {
      warnings.push({ text: switchtecTableSizeInvalid(pp, size), partition: pp });
      partitions.push({ partition: pp, tableSize: size, outcome: "table-size-invalid" });
      continue;
    }
    let gapFrom: number | undefined;
    const closeGap = (te: number): void => {
      if (gapFrom === undefined) return;
      const name = te - 1 === gapFrom ? `${gapFrom}` : `${gapFrom}..${te - 1}`;
      missing.push({ offset: reqIdEntry(pp, gapFrom), size: (te - gapFrom) * REQ_ID_ENTRY_SIZE, register: `ntb_ctrl[${pp}].req_id_table[${name}]` });
      gapFrom = undefined;
    };
    for (let te = 0; te < size; te++) {
      const entry = gas.u32(reqIdEntry(pp, te));
      if (entry === undefined) {
        gapFrom ??= te;
        continue;
      }
      closeGap(te);
      const devfn = proxyDevfn(entry);
      log.push(switchtecAliasing(pp, devfn));
      entries.push({ partition: pp, index: te, entry, devfn, enabled: (entry & 1) === 1 });
      if (!seen.has(devfn)) {
        seen.add(devfn);
        devfns.push(devfn);
      }
    }
    closeGap(size);
    partitions.push({ partition: pp, tableSize: size, outcome: "aliased" });
  }
  return done();
}
