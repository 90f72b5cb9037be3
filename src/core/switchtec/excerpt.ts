/**
 * `resource0.excerpt`: the few BAR0 ranges of a Switchtec NT function that
 * `capture` (TS or scripts/capture.sh) reads, stored beside the function's
 * other sysfs files.
 *
 * Format, all integers little-endian:
 *
 *   magic   8 bytes  ASCII "IAGASEX1" (iommu-atlas GAS excerpt, version 1)
 *   record  repeated to the end of the file:
 *     offset  u32    BAR0 offset of the first byte
 *     length  u32    number of bytes that follow
 *     bytes   length bytes, as read from resource0 at offset
 *
 * Records appear in the order they were read: ntb_info (0x10000, 0x40
 * bytes), then per partition in ascending order its req_id_table_size
 * dword (ctrl + 0x1C, 4 bytes) and, when that size is 1..512, its table
 * (ctrl + 0x400, 4 × size bytes). A read that ended early at the end of
 * the file gives a shorter record; an empty read gives none. Readers
 * accept records in any order and merge them.
 */
import { ByteReader } from "../bytes/reader.js";
import { gasImage } from "./gas-image.js";
import type { GasImage, GasRange, GasRegion } from "./gas-image.js";
import {
  NTB_CTRL_REQ_ID_TABLE,
  NTB_CTRL_REQ_ID_TABLE_SIZE,
  NTB_INFO_CAPTURE_SIZE,
  NTB_INFO_EP_MAP_HI,
  NTB_INFO_EP_MAP_HI_AS_READ,
  NTB_INFO_EP_MAP_LO,
  NTB_INFO_PARTITION_ID,
  REQ_ID_ENTRY_SIZE,
  REQ_ID_TABLE_MAX,
  SWITCHTEC_GAS_NTB,
  ntbCtrlBlock,
} from "./regs.js";

/** the file name inside the function's sysfs folder */
export const EXCERPT_FILE = "resource0.excerpt";
/** the BAR file the excerpt is read from */
export const EXCERPT_SOURCE_FILE = "resource0";
export const EXCERPT_MAGIC = "IAGASEX1";
const RECORD_HEADER = 8;

/** the first range a capture reads: ntb_info up to ntp_info[0] */
export const NTB_INFO_RANGE: GasRange = { offset: SWITCHTEC_GAS_NTB, size: NTB_INFO_CAPTURE_SIZE };

/**
 * The partitions whose control blocks a capture reads, from the ntb_info
 * bytes it got: every bit of ep_map's low word, and of both candidates for
 * its high word (+0x08 as meant, +0x24 where the kernel reads), except the
 * own partition (its low 6 bits). None when fewer than 0x40 bytes came back.
 */
export function partitionsToCapture(info: Uint8Array): number[] {
  if (info.byteLength < NTB_INFO_CAPTURE_SIZE) return [];
  const r = new ByteReader(info);
  const own = r.u8(NTB_INFO_PARTITION_ID)! & 0x3f;
  const lo = r.u32(NTB_INFO_EP_MAP_LO)!;
  const hi = (r.u32(NTB_INFO_EP_MAP_HI)! | r.u32(NTB_INFO_EP_MAP_HI_AS_READ)!) >>> 0;
  const out: number[] = [];
  for (let p = 0; p < 64; p++) {
    const word = p < 32 ? lo : hi;
    if (p !== own && ((word >>> (p & 31)) & 1) === 1) out.push(p);
  }
  return out;
}

/** req_id_table_size together with req_id_table_offset: one dword */
export const tableSizeRange = (partition: number): GasRange => ({ offset: ntbCtrlBlock(partition) + NTB_CTRL_REQ_ID_TABLE_SIZE, size: 4 });

/** the table a capture reads for `size` (the low 16 bits of the size dword); none for 0 or more than 512 */
export function tableRange(partition: number, size: number): GasRange | undefined {
  return size === 0 || size > REQ_ID_TABLE_MAX ? undefined : { offset: ntbCtrlBlock(partition) + NTB_CTRL_REQ_ID_TABLE, size: size * REQ_ID_ENTRY_SIZE };
}

/** the excerpt file for records in the order given (empty records are left out) */
export function encodeExcerpt(records: readonly GasRegion[]): Uint8Array {
  const kept = records.filter((r) => r.bytes.byteLength > 0);
  const out = new Uint8Array(EXCERPT_MAGIC.length + kept.reduce((n, r) => n + RECORD_HEADER + r.bytes.byteLength, 0));
  const view = new DataView(out.buffer);
  for (let i = 0; i < EXCERPT_MAGIC.length; i++) out[i] = EXCERPT_MAGIC.charCodeAt(i);
  let at = EXCERPT_MAGIC.length;
  for (const r of kept) {
    view.setUint32(at, r.offset >>> 0, true);
    view.setUint32(at + 4, r.bytes.byteLength, true);
    out.set(r.bytes, at + RECORD_HEADER);
    at += RECORD_HEADER + r.bytes.byteLength;
  }
  return out;
}

/**
 * Reads an excerpt back into a GAS image. Damage never throws: a wrong
 * magic gives an empty image, a record cut short is dropped, and each
 * problem is an entry in the image's issues.
 */
export function parseExcerpt(bytes: Uint8Array): GasImage {
  const r = new ByteReader(bytes);
  if (r.ascii(0, EXCERPT_MAGIC.length) !== EXCERPT_MAGIC) {
    return gasImage([], [`not a register excerpt: the file does not start with "${EXCERPT_MAGIC}"`]);
  }
  const regions: GasRegion[] = [];
  const issues: string[] = [];
  let at = EXCERPT_MAGIC.length;
  for (let n = 0; at < r.length; n++) {
    const offset = r.u32(at);
    const length = r.u32(at + 4);
    if (offset === undefined || length === undefined) {
      issues.push(`record ${n} at byte ${at}: header cut short`);
      break;
    }
    if (!r.has(at + RECORD_HEADER, length)) {
      issues.push(`record ${n} at byte ${at}: ${length} bytes announced, ${r.length - at - RECORD_HEADER} present`);
      break;
    }
    if (offset + length > 0x1_0000_0000) {
      issues.push(`record ${n} at byte ${at}: range 0x${offset.toString(16)}+${length} passes 4 GiB`);
    } else {
      regions.push({ offset, bytes: r.slice(at + RECORD_HEADER, length) });
    }
    at += RECORD_HEADER + length;
  }
  return gasImage(regions, issues);
}
