/**
 * The functions of a built topology by BDF, without a string-keyed table of
 * every function: the records sorted by their numeric address, and a lookup
 * that reads the BDF as a number and searches. On a machine of a million
 * functions, hashing every BDF into a map was the largest single cost of
 * building the model; lookups by BDF are few (the engine works by index).
 */
import { ReadonlyMapView } from "../readonly-map.js";
import type { PciFunction } from "./model.js";

/** the value of one hex digit (NaN for anything else) */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return NaN;
}

/**
 * `dddd:bb:dd.f` as the number (segment, bus, devfn) sorts by, or -1 when
 * the text is not a BDF in that form (the table then holds no such function:
 * every BDF the model prints has this form)
 */
export function bdfNumber(bdf: string): number {
  const n = bdf.length;
  // segment: 4 hex digits or more, then ':bb:dd.f' (8 characters)
  if (n < 12) return -1;
  const segEnd = n - 8;
  let segment = 0;
  for (let i = 0; i < segEnd; i++) segment = segment * 16 + hexDigit(bdf.charCodeAt(i));
  if (bdf.charCodeAt(segEnd) !== 58 || bdf.charCodeAt(segEnd + 3) !== 58 || bdf.charCodeAt(segEnd + 6) !== 46) return -1;
  const bus = hexDigit(bdf.charCodeAt(segEnd + 1)) * 16 + hexDigit(bdf.charCodeAt(segEnd + 2));
  const slot = hexDigit(bdf.charCodeAt(segEnd + 4)) * 16 + hexDigit(bdf.charCodeAt(segEnd + 5));
  const fn = bdf.charCodeAt(n - 1) - 48;
  if (!(segment <= 0xffff && bus >= 0 && slot >= 0 && slot < 32 && fn >= 0 && fn < 8)) return -1;
  return (segment * 0x100 + bus) * 0x100 + slot * 8 + fn;
}

export class FunctionTable extends ReadonlyMapView<string, PciFunction> {
  readonly #records: readonly PciFunction[];
  readonly #keys: Float64Array;

  /** `records` ascending by `keys` (from bdfNumber), no two alike */
  constructor(records: readonly PciFunction[], keys: Float64Array) {
    super();
    this.#records = records;
    this.#keys = keys;
  }

  /** the record's position, or -1 */
  position(bdf: string): number {
    const k = bdfNumber(bdf);
    if (k < 0) return -1;
    const keys = this.#keys;
    let lo = 0;
    let hi = keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = keys[mid]!;
      if (v < k) lo = mid + 1;
      else if (v > k) hi = mid - 1;
      else return this.#records[mid]!.bdf === bdf ? mid : -1;
    }
    return -1;
  }

  get size(): number {
    return this.#records.length;
  }

  get(bdf: string): PciFunction | undefined {
    const i = this.position(bdf);
    return i < 0 ? undefined : this.#records[i];
  }

  override has(bdf: string): boolean {
    return this.position(bdf) >= 0;
  }

  *entries(): MapIterator<[string, PciFunction]> {
    for (const f of this.#records) yield [f.bdf, f];
  }

  override values(): MapIterator<PciFunction> {
    // the array's own iterator: spread and for-of take their fast path
    return this.#records[Symbol.iterator]() as unknown as MapIterator<PciFunction>;
  }
}
