import { ByteReader } from "../../core/bytes/reader.js";

/** first extended capability header (PCIe base spec, 7.6) */
const EXT_CAP_START = 0x100;
/** extended config space ends here */
const EXT_CAP_END = 0x1000;
/** Device Serial Number extended capability id */
const EXT_CAP_ID_DSN = 0x0003;
/** DSN serial: 8 bytes after the header */
const DSN_SERIAL_OFFSET = 4;
const DSN_SERIAL_SIZE = 8;

/**
 * Zeroes the 8 serial bytes of every Device Serial Number capability in a
 * config-space image. Walks the extended capability list from 0x100 (header:
 * id 15:0, version 19:16, next 31:20), stopping on a loop, an empty or
 * all-ones header, or an offset outside 0x100..0xfff.
 *
 * Returns a new array when something was zeroed, otherwise `config` itself;
 * the input is never modified.
 */
export function zeroDeviceSerial(config: Uint8Array): Uint8Array {
  const reader = new ByteReader(config);
  const visited = new Set<number>();
  let out: Uint8Array | undefined;
  let offset = EXT_CAP_START;
  while (offset >= EXT_CAP_START && offset < EXT_CAP_END && !visited.has(offset)) {
    visited.add(offset);
    const header = reader.u32(offset);
    if (header === undefined || header === 0 || header === 0xffffffff) break;
    const id = header & 0xffff;
    const serial = offset + DSN_SERIAL_OFFSET;
    if (id === EXT_CAP_ID_DSN && reader.has(serial, DSN_SERIAL_SIZE)) {
      out ??= config.slice();
      out.fill(0, serial, serial + DSN_SERIAL_SIZE);
    }
    // next pointer is dword aligned (PCI_EXT_CAP_NEXT)
    offset = (header >>> 20) & 0xffc;
  }
  return out ?? config;
}
