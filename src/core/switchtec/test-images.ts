/**
 * Register images for tests, written the way the spec states them: byte
 * and dword values at BAR0 offsets.
 */
import { gasImage } from "./gas-image.js";
import type { GasImage, GasRegion } from "./gas-image.js";
import { NTB_CTRL_REQ_ID_TABLE_SIZE, NTB_INFO_CAPTURE_SIZE, SWITCHTEC_GAS_NTB, ntbCtrlBlock, reqIdEntry } from "./regs.js";

/** little-endian bytes of 32-bit values */
export function dwords(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}

export interface TestPartition {
  /** req_id_table_size register */
  readonly size: number;
  /** the table dwords actually present (may be fewer or more than size) */
  readonly entries: readonly number[];
}

/**
 * ntb_info (own partition byte, ep_map low/high, the dword at 0x10024) and
 * control blocks for the given partitions.
 */
export function ntbImage(opts: {
  own: number;
  mapLo: number;
  mapHi?: number;
  at0x24?: number;
  partitions?: Readonly<Record<number, TestPartition>>;
}): GasImage {
  const info = new Uint8Array(NTB_INFO_CAPTURE_SIZE);
  const view = new DataView(info.buffer);
  view.setUint8(0x01, opts.own);
  view.setUint32(0x04, opts.mapLo >>> 0, true);
  view.setUint32(0x08, (opts.mapHi ?? 0) >>> 0, true);
  view.setUint32(0x24, (opts.at0x24 ?? 0) >>> 0, true);
  const regions: GasRegion[] = [{ offset: SWITCHTEC_GAS_NTB, bytes: info }];
  for (const [p, t] of Object.entries(opts.partitions ?? {})) {
    const pp = Number(p);
    regions.push({ offset: ntbCtrlBlock(pp) + NTB_CTRL_REQ_ID_TABLE_SIZE, bytes: dwords(t.size) });
    if (t.entries.length > 0) regions.push({ offset: reqIdEntry(pp, 0), bytes: dwords(...t.entries) });
  }
  return gasImage(regions);
}

/** kernel-spec §10 TV16: own partition 1, ep_map 0x7, partitions 0 and 2 */
export const TV16_PARTITIONS = {
  0: { size: 2, entries: [0x00000101, 0x00000103] },
  2: { size: 1, entries: [0x00000111] },
} as const;

export const tv16Image = (at0x24 = 0): GasImage => ntbImage({ own: 1, mapLo: 0x00000007, at0x24, partitions: TV16_PARTITIONS });
