import { ByteReader } from "../bytes/reader.js";

/** bytes of BAR0 starting at `offset` (a captured or synthesised range) */
export interface GasRegion {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/**
 * A sparse image of a Switchtec BAR0 (GAS): only the ranges someone read
 * or declared. Regions are sorted, non-overlapping and never adjacent
 * (gasImage merges them), so one read lies in at most one region.
 */
export interface GasImage {
  readonly regions: readonly GasRegion[];
  /** what went wrong while this image was read back (a damaged excerpt); empty when clean */
  readonly issues: readonly string[];
}

/** a byte range of BAR0 */
export interface GasRange {
  readonly offset: number;
  readonly size: number;
}

/**
 * Builds an image from regions in any order: sorts them and merges
 * overlapping or touching ones (a later region's bytes win where they
 * overlap). Empty regions are dropped.
 */
export function gasImage(regions: readonly GasRegion[], issues: readonly string[] = []): GasImage {
  const sorted = regions.filter((r) => r.bytes.byteLength > 0).map((r, i) => ({ r, i }));
  sorted.sort((a, b) => a.r.offset - b.r.offset || a.i - b.i);
  const merged: { offset: number; end: number; parts: { r: GasRegion; i: number }[] }[] = [];
  for (const x of sorted) {
    const last = merged[merged.length - 1];
    const end = x.r.offset + x.r.bytes.byteLength;
    if (last && x.r.offset <= last.end) {
      last.end = Math.max(last.end, end);
      last.parts.push(x);
    } else {
      merged.push({ offset: x.r.offset, end, parts: [x] });
    }
  }
  const out = merged.map((m) => {
    if (m.parts.length === 1) return m.parts[0]!.r;
    const bytes = new Uint8Array(m.end - m.offset);
    // input order decides who wins an overlap
    for (const p of [...m.parts].sort((a, b) => a.i - b.i)) bytes.set(p.r.bytes, p.r.offset - m.offset);
    return { offset: m.offset, bytes };
  });
  return { regions: out, issues };
}

/** an image with nothing in it */
export const EMPTY_GAS_IMAGE: GasImage = { regions: [], issues: [] };

/**
 * Reads registers out of a sparse image. Every read answers a value or
 * `undefined`, which means "not captured": some byte of the register is in
 * no region. All byte access goes through ByteReader.
 */
export class GasReader {
  readonly image: GasImage;
  readonly #readers: readonly { readonly offset: number; readonly reader: ByteReader }[];

  constructor(image: GasImage) {
    this.image = image;
    this.#readers = image.regions.map((r) => ({ offset: r.offset, reader: new ByteReader(r.bytes) }));
  }

  // the region holding `offset`, by binary search (regions are sorted and disjoint)
  #at(offset: number): { readonly offset: number; readonly reader: ByteReader } | undefined {
    let lo = 0;
    let hi = this.#readers.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.#readers[mid]!;
      if (offset < r.offset) hi = mid - 1;
      else if (offset >= r.offset + r.reader.length) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** true when all `size` bytes at `offset` were captured */
  has(offset: number, size = 1): boolean {
    const r = this.#at(offset);
    return r !== undefined && r.reader.has(offset - r.offset, size);
  }

  u8(offset: number): number | undefined {
    const r = this.#at(offset);
    return r?.reader.u8(offset - r.offset);
  }

  u16(offset: number): number | undefined {
    const r = this.#at(offset);
    return r?.reader.u16(offset - r.offset);
  }

  u32(offset: number): number | undefined {
    const r = this.#at(offset);
    return r?.reader.u32(offset - r.offset);
  }
}
