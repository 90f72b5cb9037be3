import { ByteReader } from "../bytes/reader.js";
import type { AcpiIssue } from "./issues.js";

/** the standard ACPI System Description Table header (ACPI spec "System Description Table Header") */
export const ACPI_HEADER_LENGTH = 36;

// field offsets inside the header
const SIGNATURE = 0; // 4 ASCII bytes
const LENGTH = 4; // u32, whole table including the header
const REVISION = 8; // u8
const CHECKSUM = 9; // u8, makes the byte sum of the whole table 0
const OEM_ID = 10; // 6 ASCII bytes
const OEM_TABLE_ID = 16; // 8 ASCII bytes
const OEM_REVISION = 24; // u32
const CREATOR_ID = 28; // 4 ASCII bytes
const CREATOR_REVISION = 32; // u32

export interface AcpiTableHeader {
  readonly signature: string;
  /** the length field as written */
  readonly length: number;
  readonly revision: number;
  readonly checksum: number;
  /** byte sum of the table (as far as it is present) is 0 mod 256 */
  readonly checksumValid: boolean;
  /** trailing spaces and NULs removed */
  readonly oemId: string;
  /** trailing spaces and NULs removed */
  readonly oemTableId: string;
  readonly oemRevision: number;
  /** trailing spaces and NULs removed */
  readonly creatorId: string;
  readonly creatorRevision: number;
}

export interface AcpiHeaderResult {
  /** undefined when fewer than 36 bytes were given */
  readonly header: AcpiTableHeader | undefined;
  /**
   * how many bytes belong to the table: the length field when it is plausible
   * (≥ 36 and ≤ the bytes given), else the number of bytes given
   */
  readonly end: number;
  readonly issues: readonly AcpiIssue[];
}

const trimText = (s: string): string => s.replace(/[\s\0]+$/u, "");

/**
 * Reads the 36-byte ACPI header. A wrong signature is an error issue, a
 * length field that disagrees with the bytes or a bad checksum a warning;
 * none of them stops the caller from reading on.
 */
export function parseAcpiHeader(bytes: Uint8Array, expectedSignature: string): AcpiHeaderResult {
  const table = expectedSignature;
  const r = new ByteReader(bytes);
  const issues: AcpiIssue[] = [];
  if (!r.has(0, ACPI_HEADER_LENGTH)) {
    issues.push({ code: "table-truncated", table, offset: 0, needed: ACPI_HEADER_LENGTH, available: r.length });
    return { header: undefined, end: r.length, issues };
  }

  const signature = r.ascii(SIGNATURE, 4);
  if (signature !== expectedSignature) {
    issues.push({ code: "bad-signature", table, offset: SIGNATURE, expected: expectedSignature, found: signature });
  }

  const length = r.u32(LENGTH) ?? 0;
  if (length !== r.length) {
    issues.push({ code: "length-mismatch", table, offset: LENGTH, declared: length, actual: r.length });
  }
  const end = length >= ACPI_HEADER_LENGTH && length <= r.length ? length : r.length;

  let sum = 0;
  for (let i = 0; i < end; i++) sum = (sum + (r.u8(i) ?? 0)) & 0xff;
  const checksum = r.u8(CHECKSUM) ?? 0;
  if (sum !== 0) issues.push({ code: "bad-checksum", table, offset: CHECKSUM, checksum, sum });

  const header: AcpiTableHeader = {
    signature,
    length,
    revision: r.u8(REVISION) ?? 0,
    checksum,
    checksumValid: sum === 0,
    oemId: trimText(r.ascii(OEM_ID, 6)),
    oemTableId: trimText(r.ascii(OEM_TABLE_ID, 8)),
    oemRevision: r.u32(OEM_REVISION) ?? 0,
    creatorId: trimText(r.ascii(CREATOR_ID, 4)),
    creatorRevision: r.u32(CREATOR_REVISION) ?? 0,
  };
  return { header, end, issues };
}

/**
 * Walks the type/length-prefixed structures that follow a table's fixed
 * part (DMAR remapping structures, IVRS blocks, IORT nodes): each starts
 * with a type (`typeSize` bytes) and a u16 length at +`lengthAt` (+2, or +1
 * for IORT). Stops, with an issue, at a truncated header, a zero length or a
 * structure running past the end, or after `limit` structures.
 */
export function walkStructures(
  r: ByteReader,
  start: number,
  table: string,
  typeSize: 1 | 2,
  issues: AcpiIssue[],
  visit: (offset: number, type: number, length: number) => void,
  lengthAt: 1 | 2 = 2,
  limit = Infinity,
): void {
  let offset = start;
  for (let n = 0; offset < r.length && n < limit; n++) {
    const available = r.length - offset;
    const type = typeSize === 1 ? r.u8(offset) : r.u16(offset);
    const length = r.u16(offset + lengthAt);
    if (type === undefined || length === undefined) {
      issues.push({ code: "structure-header-truncated", table, offset, available });
      return;
    }
    if (length === 0) {
      issues.push({ code: "structure-zero-length", table, offset, type });
      return;
    }
    if (length > available) {
      issues.push({ code: "structure-past-end", table, offset, type, length, available });
      return;
    }
    visit(offset, type, length);
    offset += length;
  }
}
