/**
 * The one bounds-checked little-endian byte reader.
 *
 * Every read of config space, register images or ACPI tables goes through
 * here. Reads never throw: out-of-range reads return `undefined`, so callers
 * must decide what a missing value means (usually an issue on the function).
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.length = bytes.byteLength;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** true when `size` bytes starting at `offset` are inside the buffer */
  has(offset: number, size = 1): boolean {
    return Number.isInteger(offset) && offset >= 0 && size >= 0 && offset + size <= this.length;
  }

  u8(offset: number): number | undefined {
    return this.has(offset, 1) ? this.#view.getUint8(offset) : undefined;
  }

  u16(offset: number): number | undefined {
    return this.has(offset, 2) ? this.#view.getUint16(offset, true) : undefined;
  }

  u32(offset: number): number | undefined {
    return this.has(offset, 4) ? this.#view.getUint32(offset, true) : undefined;
  }

  /** 64-bit value as a bigint (ACPI addresses, Switchtec endpoint maps) */
  u64(offset: number): bigint | undefined {
    return this.has(offset, 8) ? this.#view.getBigUint64(offset, true) : undefined;
  }

  /** a view (no copy) of `size` bytes, clamped to the buffer */
  slice(offset: number, size: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.length));
    const end = Math.max(start, Math.min(offset + size, this.length));
    return this.bytes.subarray(start, end);
  }

  /** ASCII text of `size` bytes (ACPI signatures, OEM ids) */
  ascii(offset: number, size: number): string {
    let s = "";
    for (const b of this.slice(offset, size)) s += String.fromCharCode(b);
    return s;
  }
}
