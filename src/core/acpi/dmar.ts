/**
 * The ACPI DMAR table (Intel VT-d): hw-models.md §2.5, VT-d spec chapter 8.
 *
 * Layout: ACPI header (36 bytes), host address width (u8 at 36, stored as
 * width − 1), flags (u8 at 37), 10 reserved bytes, then remapping structures
 * from offset 48, each starting with u16 type and u16 length.
 */
import { ByteReader } from "../bytes/reader.js";
import { parseAcpiHeader, walkStructures } from "./header.js";
import type { AcpiTableHeader } from "./header.js";
import type { AcpiIssue } from "./issues.js";

const TABLE = "DMAR";

// table fields after the ACPI header
const DMAR_WIDTH = 36; // u8, host address width − 1
const DMAR_FLAGS = 37; // u8
export const DMAR_STRUCTURES_OFFSET = 48;
/** Linux `dmar_table_detect` rejects width field values below PAGE_SHIFT − 1 */
const DMAR_MIN_WIDTH_FIELD = 11;

// DMAR flags
export const DMAR_INTR_REMAP = 0x01;
export const DMAR_X2APIC_OPT_OUT = 0x02;
export const DMAR_DMA_CTRL_PLATFORM_OPT_IN = 0x04;

// remapping structure types
export const DMAR_TYPE_DRHD = 0;
export const DMAR_TYPE_RMRR = 1;
export const DMAR_TYPE_ATSR = 2;
export const DMAR_TYPE_RHSA = 3;
export const DMAR_TYPE_ANDD = 4;
export const DMAR_TYPE_SATC = 5;

// size of each structure's fixed part (type and length included)
const DRHD_FIXED = 16; // u8 flags @4, u8 size @5, u16 segment @6, u64 register base @8
const RMRR_FIXED = 24; // u16 reserved @4, u16 segment @6, u64 base @8, u64 limit @16
const ATSR_FIXED = 8; // u8 flags @4, u8 reserved @5, u16 segment @6
const RHSA_FIXED = 20; // u32 reserved @4, u64 register base @8, u32 proximity domain @16
const ANDD_FIXED = 8; // 3 reserved bytes @4, u8 ACPI device number @7, object name @8
const SATC_FIXED = 8; // u8 flags @4, u8 reserved @5, u16 segment @6

export const DRHD_INCLUDE_PCI_ALL = 0x01;
export const ATSR_ALL_PORTS = 0x01;

// device scope
const SCOPE_HEADER = 6; // u8 type, u8 length, u16 flags, u8 enumeration id, u8 start bus
export const SCOPE_ENDPOINT = 1;
export const SCOPE_BRIDGE = 2;
export const SCOPE_IOAPIC = 3;
export const SCOPE_HPET = 4;
export const SCOPE_NAMESPACE = 5;

export interface DmarPathEntry {
  readonly device: number;
  readonly function: number;
}

export interface DmarDeviceScope {
  /** 1 PCI endpoint, 2 PCI sub-hierarchy (bridge), 3 IOAPIC, 4 HPET, 5 ACPI namespace device */
  readonly type: number;
  readonly length: number;
  readonly flags: number;
  /** IOAPIC id, HPET number or ACPI device number */
  readonly enumerationId: number;
  readonly startBus: number;
  /** first entry is on `startBus`; each later entry is on the secondary bus of the bridge before it */
  readonly path: readonly DmarPathEntry[];
  /** byte offset of the scope in the table */
  readonly offset: number;
}

interface DmarStructureBase {
  readonly type: number;
  readonly offset: number;
  readonly length: number;
}

export interface DmarDrhd extends DmarStructureBase {
  readonly kind: "drhd";
  readonly flags: number;
  readonly includeAll: boolean;
  /** register set size field: 2^size 4 KiB pages */
  readonly size: number;
  readonly segment: number;
  readonly registerBase: bigint;
  readonly scopes: readonly DmarDeviceScope[];
}

export interface DmarRmrr extends DmarStructureBase {
  readonly kind: "rmrr";
  readonly segment: number;
  readonly base: bigint;
  /** last byte of the region (inclusive) */
  readonly limit: bigint;
  readonly scopes: readonly DmarDeviceScope[];
}

export interface DmarAtsr extends DmarStructureBase {
  readonly kind: "atsr";
  readonly flags: number;
  readonly allPorts: boolean;
  readonly segment: number;
  readonly scopes: readonly DmarDeviceScope[];
}

export interface DmarRhsa extends DmarStructureBase {
  readonly kind: "rhsa";
  readonly registerBase: bigint;
  readonly proximityDomain: number;
}

export interface DmarAndd extends DmarStructureBase {
  readonly kind: "andd";
  readonly deviceNumber: number;
  /** ACPI object name, up to the first NUL */
  readonly objectName: string;
}

/** SATC, types this parser does not know, and known types too short to read */
export interface DmarRawStructure extends DmarStructureBase {
  readonly kind: "satc" | "unknown" | "invalid";
}

export type DmarStructure = DmarDrhd | DmarRmrr | DmarAtsr | DmarRhsa | DmarAndd | DmarRawStructure;

export interface DmarTable {
  readonly header: AcpiTableHeader | undefined;
  /** host address width in bits (the stored value + 1); undefined when the table is too short */
  readonly hostAddressWidth: number | undefined;
  readonly flags: number | undefined;
  /** remapping structures in table order */
  readonly structures: readonly DmarStructure[];
  readonly issues: readonly AcpiIssue[];
}

/** Parses a DMAR table. Never throws: malformed parts become issues and reading goes on where it can. */
export function parseDmar(bytes: Uint8Array): DmarTable {
  const head = parseAcpiHeader(bytes, TABLE);
  const issues: AcpiIssue[] = [...head.issues];
  if (!head.header) return { header: undefined, hostAddressWidth: undefined, flags: undefined, structures: [], issues };

  // every read below is bounded by the table's own length
  const r = new ByteReader(bytes.subarray(0, head.end));
  const widthField = r.u8(DMAR_WIDTH);
  const flags = r.u8(DMAR_FLAGS);
  if (!r.has(0, DMAR_STRUCTURES_OFFSET)) {
    issues.push({ code: "table-truncated", table: TABLE, offset: 0, needed: DMAR_STRUCTURES_OFFSET, available: r.length });
  }
  if (widthField !== undefined && widthField < DMAR_MIN_WIDTH_FIELD) {
    issues.push({ code: "dmar-width-invalid", table: TABLE, offset: DMAR_WIDTH, width: widthField + 1 });
  }

  const structures: DmarStructure[] = [];
  walkStructures(r, DMAR_STRUCTURES_OFFSET, TABLE, 2, issues, (offset, type, length) => structures.push(readStructure(r, offset, type, length, issues)));

  checkDrhds(structures, issues);
  return {
    header: head.header,
    hostAddressWidth: widthField === undefined ? undefined : widthField + 1,
    flags,
    structures,
    issues,
  };
}

const MINIMUM_LENGTH: Readonly<Record<number, number>> = {
  [DMAR_TYPE_DRHD]: DRHD_FIXED,
  [DMAR_TYPE_RMRR]: RMRR_FIXED,
  [DMAR_TYPE_ATSR]: ATSR_FIXED,
  [DMAR_TYPE_RHSA]: RHSA_FIXED,
  [DMAR_TYPE_ANDD]: ANDD_FIXED,
  [DMAR_TYPE_SATC]: SATC_FIXED,
};

function readStructure(r: ByteReader, offset: number, type: number, length: number, issues: AcpiIssue[]): DmarStructure {
  const minimum = MINIMUM_LENGTH[type];
  if (minimum === undefined) return { kind: "unknown", type, offset, length };
  if (length < minimum) {
    issues.push({ code: "structure-too-short", table: TABLE, offset, type, length, minimum });
    return { kind: "invalid", type, offset, length };
  }
  // the fixed part is inside the table (checked by the walk), so these reads are defined
  const u8 = (at: number): number => r.u8(offset + at) ?? 0;
  const u16 = (at: number): number => r.u16(offset + at) ?? 0;
  const u32 = (at: number): number => r.u32(offset + at) ?? 0;
  const u64 = (at: number): bigint => r.u64(offset + at) ?? 0n;
  const end = offset + length;
  switch (type) {
    case DMAR_TYPE_DRHD: {
      const flags = u8(4);
      return {
        kind: "drhd",
        type,
        offset,
        length,
        flags,
        includeAll: (flags & DRHD_INCLUDE_PCI_ALL) !== 0,
        size: u8(5),
        segment: u16(6),
        registerBase: u64(8),
        scopes: readScopes(r, offset + DRHD_FIXED, end, issues),
      };
    }
    case DMAR_TYPE_RMRR:
      return {
        kind: "rmrr",
        type,
        offset,
        length,
        segment: u16(6),
        base: u64(8),
        limit: u64(16),
        scopes: readScopes(r, offset + RMRR_FIXED, end, issues),
      };
    case DMAR_TYPE_ATSR: {
      const flags = u8(4);
      return {
        kind: "atsr",
        type,
        offset,
        length,
        flags,
        allPorts: (flags & ATSR_ALL_PORTS) !== 0,
        segment: u16(6),
        scopes: readScopes(r, offset + ATSR_FIXED, end, issues),
      };
    }
    case DMAR_TYPE_RHSA:
      return { kind: "rhsa", type, offset, length, registerBase: u64(8), proximityDomain: u32(16) };
    case DMAR_TYPE_ANDD:
      return { kind: "andd", type, offset, length, deviceNumber: u8(7), objectName: cString(r, offset + ANDD_FIXED, end) };
    default:
      return { kind: "satc", type, offset, length };
  }
}

/** ASCII from `start` up to the first NUL or `end` */
function cString(r: ByteReader, start: number, end: number): string {
  let s = "";
  for (let at = start; at < end; at++) {
    const b = r.u8(at);
    if (b === undefined || b === 0) break;
    s += String.fromCharCode(b);
  }
  return s;
}

/** reads the device scopes in [start, end); stops at the first scope whose length cannot be trusted */
function readScopes(r: ByteReader, start: number, end: number, issues: AcpiIssue[]): DmarDeviceScope[] {
  const scopes: DmarDeviceScope[] = [];
  let offset = start;
  while (offset < end) {
    const available = end - offset;
    const type = r.u8(offset);
    const length = r.u8(offset + 1);
    if (available < 2 || type === undefined || length === undefined) {
      issues.push({ code: "scope-truncated", table: TABLE, offset, available });
      break;
    }
    if (length < SCOPE_HEADER) {
      issues.push({ code: "scope-too-short", table: TABLE, offset, length });
      break;
    }
    if (length > available) {
      issues.push({ code: "scope-past-end", table: TABLE, offset, length, available });
      break;
    }
    if (length % 2 !== 0) issues.push({ code: "scope-odd-length", table: TABLE, offset, length });
    if (type < SCOPE_ENDPOINT || type > SCOPE_NAMESPACE) {
      issues.push({ code: "scope-type-unknown", table: TABLE, offset, scopeType: type });
    }
    const path: DmarPathEntry[] = [];
    for (let at = offset + SCOPE_HEADER; at + 2 <= offset + length; at += 2) {
      path.push({ device: r.u8(at) ?? 0, function: r.u8(at + 1) ?? 0 });
    }
    scopes.push({
      type,
      length,
      flags: r.u16(offset + 2) ?? 0,
      enumerationId: r.u8(offset + 4) ?? 0,
      startBus: r.u8(offset + 5) ?? 0,
      path,
      offset,
    });
    offset += length;
  }
  return scopes;
}

/** DRHD checks Linux makes before using the units */
function checkDrhds(structures: readonly DmarStructure[], issues: AcpiIssue[]): void {
  const seen: DmarDrhd[] = [];
  for (const s of structures) {
    if (s.kind !== "drhd") continue;
    // dmar_validate_one_drhd: a zero register base disables VT-d
    if (s.registerBase === 0n) issues.push({ code: "drhd-register-base-zero", table: TABLE, offset: s.offset });
    // dmar_find_dmaru: a unit with the same segment and register base is not registered twice
    const first = seen.find((d) => d.segment === s.segment && d.registerBase === s.registerBase);
    if (first) issues.push({ code: "drhd-duplicate", table: TABLE, offset: s.offset, firstOffset: first.offset, segment: s.segment });
    else seen.push(s);
  }
}
