import { devfnOf } from "../topology/address.js";
import { gasImage } from "./gas-image.js";
import type { GasImage, GasRegion } from "./gas-image.js";
import {
  NTB_CTRL_REQ_ID_TABLE,
  NTB_CTRL_REQ_ID_TABLE_SIZE,
  NTB_INFO_CAPTURE_SIZE,
  NTB_INFO_EP_MAP_HI,
  NTB_INFO_EP_MAP_HI_AS_READ,
  NTB_INFO_EP_MAP_LO,
  NTB_INFO_PARTITION_COUNT,
  NTB_INFO_PARTITION_ID,
  REQ_ID_EN,
  REQ_ID_ENTRY_SIZE,
  REQ_ID_PROXY_SHIFT,
  REQ_ID_TABLE_MAX,
  SWITCHTEC_GAS_NTB,
  ntbCtrlBlock,
} from "./regs.js";

/**
 * A proxy requester ID as a design writes it: a devfn `"10.0"` (the entry
 * becomes enabled with that proxy and local RID 00:00.0), or a raw
 * req_id_table dword as a number or `"0x00000101"`.
 */
export type ProxyIdSpec = string | number;

/** one peer partition of a declared table */
export interface PartitionSpec {
  /** req_id_table entries in slot order */
  readonly requesterIds: readonly ProxyIdSpec[];
  /** req_id_table_size as the register reads; default: the number of entries */
  readonly tableSize?: number;
}

/** the partition table a design declares for one NT function */
export interface PartitionTable {
  /** this host's partition (ntb_info.partition_id) */
  readonly ownPartition: number;
  /** peer partitions with an NT endpoint, by partition number (0..63) */
  readonly partitions: Readonly<Record<number, PartitionSpec>>;
  /** ntp_info[0].target_part_low (BAR0 0x10024), which the quirk reads as ep_map's high word; default 0 */
  readonly ntp0TargetLow?: number;
}

const DEVFN_RE = /^([0-9a-fA-F]{1,2})\.([0-7])$/;
const RAW_RE = /^0x[0-9a-fA-F]{1,8}$/;

/** a req_id_table dword for a proxy-ID spec; undefined when it is neither a devfn nor a 32-bit value */
export function proxyIdEntry(spec: ProxyIdSpec): number | undefined {
  if (typeof spec === "number") return Number.isInteger(spec) && spec >= 0 && spec <= 0xffffffff ? spec : undefined;
  const text = spec.trim();
  const d = DEVFN_RE.exec(text);
  if (d) {
    const slot = parseInt(d[1]!, 16);
    return slot > 0x1f ? undefined : ((devfnOf(slot, Number(d[2])) << REQ_ID_PROXY_SHIFT) | REQ_ID_EN) >>> 0;
  }
  return RAW_RE.test(text) ? parseInt(text, 16) >>> 0 : undefined;
}

/**
 * Synthesises the BAR0 ranges the quirk reads from a declared partition
 * table, so a design goes through the same proxyAliases code as a
 * capture: ntb_info (partition id, ep_map with the own and every listed
 * partition, ntp_info[0].target_part_low), and per listed partition its
 * req_id_table_size and table. Problems (bad ids, partitions outside
 * 0..63, more than 512 entries) are recorded in the image's issues and the
 * offending item is left out.
 */
export function imageFromPartitions(table: PartitionTable): GasImage {
  const issues: string[] = [];
  const regions: GasRegion[] = [];
  const partitionOk = (p: number): boolean => Number.isInteger(p) && p >= 0 && p < 64;
  if (!partitionOk(table.ownPartition)) issues.push(`own partition ${table.ownPartition} is outside 0..63`);
  const own = table.ownPartition & 0x3f;

  const info = new Uint8Array(NTB_INFO_CAPTURE_SIZE);
  const infoView = new DataView(info.buffer);
  let lo = 0;
  let hi = 0;
  let highest = own;
  const mark = (p: number): void => {
    if (p < 32) lo |= 1 << p;
    else hi |= 1 << (p - 32);
    highest = Math.max(highest, p);
  };
  mark(own);

  const listed = Object.keys(table.partitions)
    .map(Number)
    .sort((a, b) => a - b);
  for (const p of listed) {
    if (!partitionOk(p)) {
      issues.push(`partition ${p} is outside 0..63`);
      continue;
    }
    mark(p);
    const spec = table.partitions[p]!;
    const entries: number[] = [];
    for (const [i, id] of spec.requesterIds.entries()) {
      const e = proxyIdEntry(id);
      if (e === undefined) issues.push(`partition ${p} proxy id ${i}: ${JSON.stringify(id)} is neither a devfn (10.0) nor a 32-bit entry (0x00000101)`);
      else entries.push(e);
    }
    if (entries.length > REQ_ID_TABLE_MAX) {
      issues.push(`partition ${p}: ${entries.length} proxy ids, the table holds ${REQ_ID_TABLE_MAX}`);
      entries.length = REQ_ID_TABLE_MAX;
    }
    const size = spec.tableSize ?? entries.length;
    const sizeReg = new Uint8Array(4);
    new DataView(sizeReg.buffer).setUint16(0, size & 0xffff, true);
    regions.push({ offset: ntbCtrlBlock(p) + NTB_CTRL_REQ_ID_TABLE_SIZE, bytes: sizeReg });
    if (entries.length > 0) {
      const t = new Uint8Array(entries.length * REQ_ID_ENTRY_SIZE);
      const tv = new DataView(t.buffer);
      entries.forEach((e, i) => tv.setUint32(i * REQ_ID_ENTRY_SIZE, e, true));
      regions.push({ offset: ntbCtrlBlock(p) + NTB_CTRL_REQ_ID_TABLE, bytes: t });
    }
  }

  infoView.setUint8(NTB_INFO_PARTITION_COUNT, highest + 1);
  infoView.setUint8(NTB_INFO_PARTITION_ID, own);
  infoView.setUint32(NTB_INFO_EP_MAP_LO, lo >>> 0, true);
  infoView.setUint32(NTB_INFO_EP_MAP_HI, hi >>> 0, true);
  infoView.setUint32(NTB_INFO_EP_MAP_HI_AS_READ, (table.ntp0TargetLow ?? 0) >>> 0, true);
  regions.push({ offset: SWITCHTEC_GAS_NTB, bytes: info });
  return gasImage(regions, issues);
}
