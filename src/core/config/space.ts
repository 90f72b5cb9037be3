import { ByteReader } from "../bytes/reader.js";

/**
 * Config space of one function as far as it was read.
 *
 * `known` is how many leading bytes the source really gave (64 for an
 * unprivileged sysfs read, 256 conventional, 4096 extended). Reads past it
 * return undefined: unknown, never zero.
 */
export class ConfigSpace {
  readonly known: number;
  readonly #reader: ByteReader;

  constructor(bytes: Uint8Array, known = bytes.byteLength) {
    this.#reader = new ByteReader(bytes);
    this.known = Math.min(known, bytes.byteLength);
  }

  get bytes(): Uint8Array {
    return this.#reader.bytes;
  }

  has(offset: number, size: number): boolean {
    return offset >= 0 && offset + size <= this.known;
  }

  u8(offset: number): number | undefined {
    return this.has(offset, 1) ? this.#reader.u8(offset) : undefined;
  }

  u16(offset: number): number | undefined {
    return this.has(offset, 2) ? this.#reader.u16(offset) : undefined;
  }

  u32(offset: number): number | undefined {
    return this.has(offset, 4) ? this.#reader.u32(offset) : undefined;
  }

  u64(offset: number): bigint | undefined {
    return this.has(offset, 8) ? this.#reader.u64(offset) : undefined;
  }
}
