/**
 * Reads the BAR0 registers of a Switchtec NT function for its
 * `resource0.excerpt` (format and read plan in core/switchtec/excerpt.ts).
 * Two read paths, both read-only and both taken the same way by
 * scripts/capture.sh, so that the two write the same archive:
 *
 * 1. `resource0`, the function's sysfs BAR file. Linux gives a memory BAR's
 *    file only an mmap method, so on real hardware a plain read fails with
 *    EIO; it works for I/O BARs and for the files of a fake sysfs tree.
 * 2. When path 1 fails in any way: `dev/mem` below the capture root, at
 *    BAR0's physical address as line 1 of the function's `resource` file
 *    gives it (`memBar0`), reads cut at BAR0's end as they would stop at
 *    the end of resource0.
 *
 * Any failure, not only EIO and EINVAL, leads to path 2 because
 * capture.sh only sees that dd failed, not the errno; trying /dev/mem
 * costs nothing when it cannot work either (not root: EACCES or EPERM).
 *
 * Every read is one aligned read(2) of at most 4 bytes, as `dd bs=4` does:
 * the kernel's I/O-BAR read method accepts no other size, and /dev/mem
 * then touches the MMIO registers with dword loads.
 */
import { open } from "node:fs/promises";
import { NTB_INFO_RANGE, encodeExcerpt, partitionsToCapture, tableRange, tableSizeRange } from "../../core/switchtec/excerpt.js";
import type { GasRange, GasRegion } from "../../core/switchtec/gas-image.js";

/** physical memory, below the capture root (`/dev/mem` on the live host) */
export const DEV_MEM = "dev/mem";

/** one read(2) at most this long */
const READ_UNIT = 4;

/** include/linux/ioport.h */
const IORESOURCE_MEM = 0x200n;
const IORESOURCE_DISABLED = 0x10000000n;
const IORESOURCE_UNSET = 0x20000000n;
/** no x86-64 or arm64 physical address reaches 2^52; below it capture.sh's 64-bit shell arithmetic stays exact */
const PHYS_LIMIT = 1n << 52n;
/** IORESOURCE flags are all below bit 32; wider values are not a kernel's */
const FLAGS_LIMIT = 1n << 32n;
/** `resource` line as the kernel prints it: "0x%016llx 0x%016llx 0x%016llx" */
const RESOURCE_LINE = /^0x([0-9a-f]{16}) 0x([0-9a-f]{16}) 0x([0-9a-f]{16})$/;

/** BAR0 in physical memory */
export interface MemBar {
  /** physical address of BAR0 offset 0 */
  readonly start: number;
  /** length in bytes */
  readonly size: number;
}

/**
 * BAR0 from the text of a function's sysfs `resource` file (line 1: start,
 * end and flags), when it is a memory BAR that /dev/mem can be read at: the
 * line exactly as the kernel prints it (lowercase hex, 16 digits each),
 * IORESOURCE_MEM set, neither UNSET nor DISABLED, flags below 2^32, start
 * not 0, end not below start and below 2^52, start and end + 1 multiples
 * of 4. Otherwise undefined: an I/O BAR, an unassigned one, or text that
 * is no kernel's. capture.sh's mem_bar0 applies the same rule.
 */
export function memBar0(resourceText: string): MemBar | undefined {
  const m = RESOURCE_LINE.exec(resourceText.split("\n", 1)[0] ?? "");
  if (!m) return undefined;
  const start = BigInt(`0x${m[1]}`);
  const end = BigInt(`0x${m[2]}`);
  const flags = BigInt(`0x${m[3]}`);
  if (flags >= FLAGS_LIMIT || (flags & IORESOURCE_MEM) === 0n || (flags & (IORESOURCE_UNSET | IORESOURCE_DISABLED)) !== 0n) return undefined;
  if (start === 0n || end < start || end >= PHYS_LIMIT || start % 4n !== 0n || (end + 1n) % 4n !== 0n) return undefined;
  return { start: Number(start), size: Number(end - start + 1n) };
}

/** where a capture reads BAR0 from */
export interface BarFile {
  /** `resource0`, or /dev/mem */
  readonly file: string;
  /** file position of BAR0 offset 0: 0 for resource0, BAR0's physical address in /dev/mem */
  readonly base?: number;
  /** BAR0's length: reads stop there as they stop at the end of resource0; absent: at the end of the file */
  readonly size?: number;
}

/** what the ntb_info read gave: an excerpt, or only 0xff bytes (the function does not decode its BAR) */
export type NtbRead = { readonly kind: "excerpt"; readonly bytes: Uint8Array } | { readonly kind: "all-ones" };

/**
 * Reads the BAR0 ranges the Switchtec DMA-alias quirk reads, in the order
 * of the read plan: never mmap, never a write. A read that stops at the end
 * of the file or of BAR0 gives a shorter record. When the ntb_info bytes
 * read are all 0xff, stops there: all-ones. Throws the fs error when the
 * file cannot be opened or read.
 */
export async function readNtbExcerpt(bar: BarFile): Promise<NtbRead> {
  const base = bar.base ?? 0;
  const fh = await open(bar.file, "r");
  try {
    const read = async (range: GasRange): Promise<GasRegion> => {
      const want = bar.size === undefined ? range.size : Math.max(0, Math.min(range.size, bar.size - range.offset));
      const bytes = new Uint8Array(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(bytes, got, Math.min(READ_UNIT, want - got), base + range.offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return { offset: range.offset, bytes: bytes.subarray(0, got) };
    };
    const info = await read(NTB_INFO_RANGE);
    if (info.bytes.byteLength > 0 && info.bytes.every((b) => b === 0xff)) return { kind: "all-ones" };
    const records = [info];
    for (const p of partitionsToCapture(info.bytes)) {
      const size = await read(tableSizeRange(p));
      records.push(size);
      if (size.bytes.byteLength < 4) continue;
      const table = tableRange(p, size.bytes[0]! | (size.bytes[1]! << 8));
      if (table) records.push(await read(table));
    }
    return { kind: "excerpt", bytes: encodeExcerpt(records) };
  } finally {
    await fh.close();
  }
}
