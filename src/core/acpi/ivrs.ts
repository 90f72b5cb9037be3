/**
 * The ACPI IVRS table (AMD-Vi): hw-models.md §3.2, kernel-spec.md §7.2.
 *
 * Layout: ACPI header (36 bytes), IVinfo (u32 at 36), 8 reserved bytes, then
 * IVHD / IVMD blocks from offset 48, each starting with u8 type, u8 flags,
 * u16 length and u16 device id.
 */
import { ByteReader } from "../bytes/reader.js";
import { parseAcpiHeader, walkStructures } from "./header.js";
import type { AcpiTableHeader } from "./header.js";
import type { AcpiIssue } from "./issues.js";

const TABLE = "IVRS";

const IVRS_IVINFO = 36; // u32
export const IVRS_BLOCKS_OFFSET = 48;

// IVinfo fields
const IVINFO_EFR_SUP = 0x1; // bit 0
const IVINFO_GVA_SHIFT = 5; // bits 7:5
const IVINFO_GVA_MASK = 0x7;
const IVINFO_PA_SHIFT = 8; // bits 14:8
const IVINFO_VA_SHIFT = 15; // bits 21:15
const IVINFO_SIZE_MASK = 0x7f;

// block types
export const IVHD_TYPE_LEGACY = 0x10;
export const IVHD_TYPE_EFR = 0x11;
export const IVHD_TYPE_ACPI_HID = 0x40;
/** ACPI_IVHD_TYPE_MAX_SUPPORTED: Linux stops looking for IVHD types at the first block above it */
export const IVHD_TYPE_MAX_SUPPORTED = 0x40;
export const IVMD_TYPE_ALL = 0x20;
export const IVMD_TYPE_SELECT = 0x21;
export const IVMD_TYPE_RANGE = 0x22;

// IVHD header: u8 type, u8 flags @1, u16 length @2, u16 IOMMU BDF @4, u16 capability offset @6,
// u64 MMIO base @8, u16 segment @16, u16 IOMMU info @18, u32 feature reporting / attributes @20,
// then for 0x11 and 0x40 the EFR image (u64 @24) and EFR2 (u64 @32)
const IVHD_HEADER_LEGACY = 24;
const IVHD_HEADER_EFR = 40;
// IVMD: u8 type, u8 flags @1, u16 length @2, u16 devid @4, u16 auxiliary data @6, 8 reserved,
// u64 start address @16, u64 memory block length @24
const IVMD_LENGTH = 32;

// IVMD flags
export const IVMD_FLAG_UNITY = 0x01;
export const IVMD_FLAG_IR = 0x02;
export const IVMD_FLAG_IW = 0x04;
export const IVMD_FLAG_EXCLUSION = 0x08;

// IVHD device entry types (Linux drivers/iommu/amd/init.c IVHD_DEV_*)
export const IVHD_DEV_PAD = 0x00;
export const IVHD_DEV_ALL = 0x01;
export const IVHD_DEV_SELECT = 0x02;
export const IVHD_DEV_SELECT_RANGE_START = 0x03;
export const IVHD_DEV_RANGE_END = 0x04;
export const IVHD_DEV_ALIAS = 0x42;
export const IVHD_DEV_ALIAS_RANGE = 0x43;
export const IVHD_DEV_EXT_SELECT = 0x46;
export const IVHD_DEV_EXT_SELECT_RANGE = 0x47;
export const IVHD_DEV_SPECIAL = 0x48;
export const IVHD_DEV_ACPI_HID = 0xf0;
/** ACPI HID entries are 22 bytes plus the UID length found at entry byte 21 */
const ACPI_HID_FIXED = 22;

export const IVHD_SPECIAL_IOAPIC = 1;
export const IVHD_SPECIAL_HPET = 2;

/** DTE setting bits of a device entry */
export const IVHD_DTE_INITPASS = 0x01;
export const IVHD_DTE_EXTINT = 0x02;
export const IVHD_DTE_NMI = 0x04;
export const IVHD_DTE_SYSMGT1 = 0x10;
export const IVHD_DTE_SYSMGT2 = 0x20;
export const IVHD_DTE_LINT0 = 0x40;
export const IVHD_DTE_LINT1 = 0x80;

export const MAX_DEVID = 0xffff;

export interface IvinfoFields {
  readonly efrSupported: boolean;
  readonly guestVirtualAddressSize: number;
  readonly physicalAddressSize: number;
  readonly virtualAddressSize: number;
}

interface IvhdEntryBase {
  /** byte offset of the entry in the table */
  readonly offset: number;
  readonly type: number;
  readonly length: number;
  /** u16 at entry byte 1 (reserved in special entries) */
  readonly devid: number;
  /** DTE setting byte (entry byte 3) */
  readonly dteSetting: number;
}

export interface IvhdPlainEntry extends IvhdEntryBase {
  /** "reserved": an entry type with a known length that Linux ignores */
  readonly kind: "pad" | "all" | "select" | "range-start" | "range-end" | "reserved";
}

export interface IvhdAliasEntry extends IvhdEntryBase {
  readonly kind: "alias-select" | "alias-range-start";
  /** the requester ID the device(s) use instead (entry bytes 5–6) */
  readonly alias: number;
}

export interface IvhdExtEntry extends IvhdEntryBase {
  readonly kind: "ext-select" | "ext-range-start";
  /** extended DTE setting (u32 at entry byte 4) */
  readonly extSetting: number;
}

export interface IvhdSpecialEntry extends IvhdEntryBase {
  readonly kind: "special";
  /** IOAPIC id or HPET number (entry byte 4) */
  readonly handle: number;
  /** the requester ID the IOAPIC / HPET uses (entry bytes 5–6) */
  readonly specialDevid: number;
  /** 1 IOAPIC, 2 HPET (entry byte 7) */
  readonly variety: number;
}

export interface IvhdAcpiHidEntry extends IvhdEntryBase {
  readonly kind: "acpi-hid";
  /** entry bytes 4–11, trailing NULs and spaces removed */
  readonly hid: string;
  /** entry bytes 12–19, trailing NULs and spaces removed */
  readonly cid: string;
  /** 0 none, 1 integer, 2 string (entry byte 20) */
  readonly uidFormat: number;
  /** decimal for integer UIDs (little-endian), the text for string UIDs, "" when absent */
  readonly uid: string;
}

export type IvhdEntry = IvhdPlainEntry | IvhdAliasEntry | IvhdExtEntry | IvhdSpecialEntry | IvhdAcpiHidEntry;

export interface DevidRange {
  readonly start: number;
  /** inclusive */
  readonly end: number;
}

export interface IvhdSpecialDevice {
  readonly devid: number;
  readonly kind: "ioapic" | "hpet" | "acpi-hid";
  /** IOAPIC id / HPET number; the HID for ACPI-HID entries */
  readonly id: number | string;
  /** offset of the entry */
  readonly offset: number;
}

/**
 * What Linux's `init_iommu_from_acpi` derives from one IVHD when it is the
 * type in use: the devids that get DTE settings (and an rlookup entry for
 * this IOMMU), the alias table writes, and the IOAPIC / HPET / ACPI-HID
 * devids, which are not PCI functions but also get an rlookup entry.
 */
export interface IvhdDerived {
  /** PCI devids given settings: ALL, SELECT, ranges, and both sides of alias entries; sorted, merged */
  readonly devids: readonly DevidRange[];
  /** alias_table writes in entry order: devid → alias */
  readonly aliases: readonly { readonly devid: number; readonly alias: number }[];
  readonly specials: readonly IvhdSpecialDevice[];
  /** this block's share of the kernel's last_bdf: ALL gives 0xffff, else the largest SELECT / RANGE END / ALIAS SELECT / EXT SELECT devid */
  readonly lastDevid: number | undefined;
  /** Linux fails to initialise AMD-Vi on this block (special entry of unknown variety) */
  readonly fatal: boolean;
}

export interface IvrsIvhd {
  readonly kind: "ivhd";
  /** 0x10, 0x11 or 0x40 */
  readonly type: number;
  readonly offset: number;
  readonly length: number;
  readonly flags: number;
  /** the IOMMU's own requester ID (bus << 8 | devfn) */
  readonly iommuBdf: number;
  readonly capOffset: number;
  readonly mmioBase: bigint;
  readonly segment: number;
  readonly info: number;
  /** IOMMU feature reporting (type 0x10) or IOMMU attributes (0x11, 0x40) */
  readonly attributes: number;
  /** EFR image (types 0x11 and 0x40) */
  readonly efr: bigint | undefined;
  /** EFR2 image (types 0x11 and 0x40) */
  readonly efr2: bigint | undefined;
  readonly entries: readonly IvhdEntry[];
  readonly derived: IvhdDerived;
}

export interface IvrsIvmd {
  readonly kind: "ivmd";
  /** 0x20 all devices, 0x21 one device, 0x22 a range */
  readonly type: number;
  readonly offset: number;
  readonly length: number;
  readonly flags: number;
  readonly unity: boolean;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly exclusion: boolean;
  readonly devid: number;
  /** last devid for type 0x22 */
  readonly auxData: number;
  readonly startAddress: bigint;
  readonly blockLength: bigint;
}

/** blocks of unknown type, and IVHD / IVMD blocks too short for their fixed part */
export interface IvrsRawBlock {
  readonly kind: "unknown" | "invalid";
  readonly type: number;
  readonly offset: number;
  readonly length: number;
}

export type IvrsBlock = IvrsIvhd | IvrsIvmd | IvrsRawBlock;

export interface IvrsTable {
  readonly header: AcpiTableHeader | undefined;
  readonly ivinfo: number | undefined;
  readonly ivinfoFields: IvinfoFields | undefined;
  /** blocks in table order */
  readonly blocks: readonly IvrsBlock[];
  /**
   * the block type Linux uses (get_highest_supported_ivhd_type): walking from
   * the first block while types are ≤ 0x40, the type of the last block whose
   * device id (u16 at 4) equals the first block's; blocks of other types are ignored
   */
  readonly usedIvhdType: number | undefined;
  /** Linux's alias_table per segment, explicit writes only (every other devid aliases itself) */
  readonly aliasTable: ReadonlyMap<number, ReadonlyMap<number, number>>;
  readonly issues: readonly AcpiIssue[];
}

/** Parses an IVRS table. Never throws: malformed parts become issues and reading goes on where it can. */
export function parseIvrs(bytes: Uint8Array): IvrsTable {
  const head = parseAcpiHeader(bytes, TABLE);
  const issues: AcpiIssue[] = [...head.issues];
  if (!head.header) {
    return { header: undefined, ivinfo: undefined, ivinfoFields: undefined, blocks: [], usedIvhdType: undefined, aliasTable: new Map(), issues };
  }
  const r = new ByteReader(bytes.subarray(0, head.end));
  const ivinfo = r.u32(IVRS_IVINFO);
  if (!r.has(0, IVRS_BLOCKS_OFFSET)) {
    issues.push({ code: "table-truncated", table: TABLE, offset: 0, needed: IVRS_BLOCKS_OFFSET, available: r.length });
  }

  const blocks: IvrsBlock[] = [];
  walkStructures(r, IVRS_BLOCKS_OFFSET, TABLE, 1, issues, (offset, type, length) => blocks.push(readBlock(r, offset, type, length, issues)));
  if (r.length === IVRS_BLOCKS_OFFSET) {
    issues.push({ code: "ivrs-no-blocks", table: TABLE, offset: IVRS_BLOCKS_OFFSET });
  }

  const usedIvhdType = pickIvhdType(r, blocks, issues);
  return {
    header: head.header,
    ivinfo,
    ivinfoFields: ivinfo === undefined ? undefined : decodeIvinfo(ivinfo),
    blocks,
    usedIvhdType,
    aliasTable: buildAliasTable(blocks, usedIvhdType),
    issues,
  };
}

function decodeIvinfo(v: number): IvinfoFields {
  return {
    efrSupported: (v & IVINFO_EFR_SUP) !== 0,
    guestVirtualAddressSize: (v >>> IVINFO_GVA_SHIFT) & IVINFO_GVA_MASK,
    physicalAddressSize: (v >>> IVINFO_PA_SHIFT) & IVINFO_SIZE_MASK,
    virtualAddressSize: (v >>> IVINFO_VA_SHIFT) & IVINFO_SIZE_MASK,
  };
}

export const isIvhdType = (type: number): boolean =>
  type === IVHD_TYPE_LEGACY || type === IVHD_TYPE_EFR || type === IVHD_TYPE_ACPI_HID;
const isIvmdType = (type: number): boolean => type >= IVMD_TYPE_ALL && type <= IVMD_TYPE_RANGE;

function readBlock(r: ByteReader, offset: number, type: number, length: number, issues: AcpiIssue[]): IvrsBlock {
  const u8 = (at: number): number => r.u8(offset + at) ?? 0;
  const u16 = (at: number): number => r.u16(offset + at) ?? 0;
  const u32 = (at: number): number => r.u32(offset + at) ?? 0;
  const u64 = (at: number): bigint => r.u64(offset + at) ?? 0n;

  if (isIvhdType(type)) {
    const headerSize = type === IVHD_TYPE_LEGACY ? IVHD_HEADER_LEGACY : IVHD_HEADER_EFR;
    if (length < headerSize) {
      issues.push({ code: "structure-too-short", table: TABLE, offset, type, length, minimum: headerSize });
      return { kind: "invalid", type, offset, length };
    }
    const entries = readEntries(r, offset + headerSize, offset + length, issues);
    return {
      kind: "ivhd",
      type,
      offset,
      length,
      flags: u8(1),
      iommuBdf: u16(4),
      capOffset: u16(6),
      mmioBase: u64(8),
      segment: u16(16),
      info: u16(18),
      attributes: u32(20),
      efr: type === IVHD_TYPE_LEGACY ? undefined : u64(24),
      efr2: type === IVHD_TYPE_LEGACY ? undefined : u64(32),
      entries,
      derived: deriveIvhd(type, entries, issues),
    };
  }
  if (isIvmdType(type)) {
    if (length < IVMD_LENGTH) {
      issues.push({ code: "structure-too-short", table: TABLE, offset, type, length, minimum: IVMD_LENGTH });
      return { kind: "invalid", type, offset, length };
    }
    const flags = u8(1);
    return {
      kind: "ivmd",
      type,
      offset,
      length,
      flags,
      unity: (flags & IVMD_FLAG_UNITY) !== 0,
      readable: (flags & IVMD_FLAG_IR) !== 0,
      writable: (flags & IVMD_FLAG_IW) !== 0,
      exclusion: (flags & IVMD_FLAG_EXCLUSION) !== 0,
      devid: u16(4),
      auxData: u16(6),
      startAddress: u64(16),
      blockLength: u64(24),
    };
  }
  return { kind: "unknown", type, offset, length };
}

/** entry length as Linux computes it (ivhd_entry_length); undefined when it cannot be known */
function entryLength(r: ByteReader, offset: number, type: number): number | undefined {
  if (type < 0x80) return 4 << (type >> 6); // 0x00–0x3f: 4 bytes, 0x40–0x7f: 8 bytes
  if (type === IVHD_DEV_ACPI_HID) {
    const uidLength = r.u8(offset + 21);
    return uidLength === undefined ? undefined : ACPI_HID_FIXED + uidLength;
  }
  return undefined;
}

const trimText = (s: string): string => s.replace(/[\s\0]+$/u, "");

function readEntries(r: ByteReader, start: number, end: number, issues: AcpiIssue[]): IvhdEntry[] {
  const entries: IvhdEntry[] = [];
  let offset = start;
  while (offset < end) {
    const available = end - offset;
    const type = r.u8(offset) ?? 0;
    const length = entryLength(r, offset, type);
    if (length === undefined) {
      if (type === IVHD_DEV_ACPI_HID) {
        issues.push({ code: "ivhd-entry-past-end", table: TABLE, offset, entryType: type, length: ACPI_HID_FIXED, available });
      } else {
        issues.push({ code: "ivhd-entry-unknown-length", table: TABLE, offset, entryType: type });
      }
      break;
    }
    if (length > available) {
      issues.push({ code: "ivhd-entry-past-end", table: TABLE, offset, entryType: type, length, available });
      break;
    }
    entries.push(readEntry(r, offset, type, length));
    offset += length;
  }
  return entries;
}

function readEntry(r: ByteReader, offset: number, type: number, length: number): IvhdEntry {
  const base = { offset, type, length, devid: r.u16(offset + 1) ?? 0, dteSetting: r.u8(offset + 3) ?? 0 };
  switch (type) {
    case IVHD_DEV_PAD:
      return { ...base, kind: "pad" };
    case IVHD_DEV_ALL:
      return { ...base, kind: "all" };
    case IVHD_DEV_SELECT:
      return { ...base, kind: "select" };
    case IVHD_DEV_SELECT_RANGE_START:
      return { ...base, kind: "range-start" };
    case IVHD_DEV_RANGE_END:
      return { ...base, kind: "range-end" };
    case IVHD_DEV_ALIAS:
    case IVHD_DEV_ALIAS_RANGE:
      return {
        ...base,
        kind: type === IVHD_DEV_ALIAS ? "alias-select" : "alias-range-start",
        alias: r.u16(offset + 5) ?? 0,
      };
    case IVHD_DEV_EXT_SELECT:
    case IVHD_DEV_EXT_SELECT_RANGE:
      return {
        ...base,
        kind: type === IVHD_DEV_EXT_SELECT ? "ext-select" : "ext-range-start",
        extSetting: r.u32(offset + 4) ?? 0,
      };
    case IVHD_DEV_SPECIAL:
      return {
        ...base,
        kind: "special",
        handle: r.u8(offset + 4) ?? 0,
        specialDevid: r.u16(offset + 5) ?? 0,
        variety: r.u8(offset + 7) ?? 0,
      };
    case IVHD_DEV_ACPI_HID: {
      const uidFormat = r.u8(offset + 20) ?? 0;
      const uidLength = r.u8(offset + 21) ?? 0;
      return {
        ...base,
        kind: "acpi-hid",
        hid: trimText(r.ascii(offset + 4, 8)),
        cid: trimText(r.ascii(offset + 12, 8)),
        uidFormat,
        uid: readUid(r, offset + ACPI_HID_FIXED, uidFormat, uidLength),
      };
    }
    default:
      return { ...base, kind: "reserved" };
  }
}

function readUid(r: ByteReader, at: number, format: number, length: number): string {
  if (format === 1) {
    let value = 0n;
    for (let i = Math.min(length, 8) - 1; i >= 0; i--) value = (value << 8n) | BigInt(r.u8(at + i) ?? 0);
    return value.toString(10);
  }
  if (format === 2) return trimText(r.ascii(at, length));
  return "";
}

/**
 * Replays init_iommu_from_acpi's walk over the entries: a range start opens
 * a range (alias ranges also carry the alias), the next range end closes it.
 * Like the kernel, a range end with no open range reuses the last start
 * seen in this block (initially devid 0).
 */
function deriveIvhd(blockType: number, entries: readonly IvhdEntry[], issues: AcpiIssue[]): IvhdDerived {
  const set: DevidRange[] = [];
  const aliases: { devid: number; alias: number }[] = [];
  const specials: IvhdSpecialDevice[] = [];
  let lastDevid: number | undefined;
  let fatal = false;
  const noteLast = (devid: number): void => {
    if (lastDevid === undefined || devid > lastDevid) lastDevid = devid;
  };

  let rangeStart = 0;
  let rangeAlias: number | undefined;
  let open: IvhdEntry | undefined;

  for (const e of entries) {
    switch (e.kind) {
      case "all":
        set.push({ start: 0, end: MAX_DEVID });
        noteLast(MAX_DEVID);
        break;
      case "select":
      case "ext-select":
        set.push({ start: e.devid, end: e.devid });
        noteLast(e.devid);
        break;
      case "alias-select":
        set.push({ start: e.devid, end: e.devid }, { start: e.alias, end: e.alias });
        aliases.push({ devid: e.devid, alias: e.alias });
        noteLast(e.devid);
        break;
      case "range-start":
      case "ext-range-start":
      case "alias-range-start":
        if (open) issues.push({ code: "ivhd-range-unterminated", table: TABLE, offset: open.offset, entryType: open.type, devid: open.devid });
        open = e;
        rangeStart = e.devid;
        rangeAlias = e.kind === "alias-range-start" ? e.alias : undefined;
        break;
      case "range-end":
        noteLast(e.devid);
        if (!open) issues.push({ code: "ivhd-range-end-without-start", table: TABLE, offset: e.offset, devid: e.devid });
        open = undefined;
        if (e.devid < rangeStart) {
          issues.push({ code: "ivhd-range-reversed", table: TABLE, offset: e.offset, start: rangeStart, end: e.devid });
          break;
        }
        set.push({ start: rangeStart, end: e.devid });
        if (rangeAlias !== undefined) {
          set.push({ start: rangeAlias, end: rangeAlias });
          for (let devid = rangeStart; devid <= e.devid; devid++) aliases.push({ devid, alias: rangeAlias });
        }
        break;
      case "special":
        if (e.variety === IVHD_SPECIAL_IOAPIC || e.variety === IVHD_SPECIAL_HPET) {
          specials.push({
            devid: e.specialDevid,
            kind: e.variety === IVHD_SPECIAL_IOAPIC ? "ioapic" : "hpet",
            id: e.handle,
            offset: e.offset,
          });
        } else {
          // add_special_device returns -EINVAL and AMD-Vi initialisation fails
          issues.push({ code: "ivhd-special-variety-unknown", table: TABLE, offset: e.offset, variety: e.variety });
          fatal = true;
        }
        break;
      case "acpi-hid":
        if (blockType !== IVHD_TYPE_ACPI_HID) {
          issues.push({ code: "ivhd-acpi-hid-misplaced", table: TABLE, offset: e.offset, blockType });
        } else if (e.hid === "") {
          issues.push({ code: "ivhd-acpi-hid-empty", table: TABLE, offset: e.offset });
        } else {
          specials.push({ devid: e.devid, kind: "acpi-hid", id: e.hid, offset: e.offset });
        }
        break;
      default:
        break; // pad and reserved types are skipped
    }
  }
  if (open) issues.push({ code: "ivhd-range-unterminated", table: TABLE, offset: open.offset, entryType: open.type, devid: open.devid });
  return { devids: mergeRanges(set), aliases, specials, lastDevid, fatal };
}

/** sorts and merges overlapping or touching ranges */
export function mergeRanges(ranges: readonly DevidRange[]): DevidRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: { start: number; end: number }[] = [];
  for (const { start, end } of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last.end + 1) last.end = Math.max(last.end, end);
    else out.push({ start, end });
  }
  return out;
}

/** true when `devid` lies in one of the sorted, merged ranges */
export function rangesContain(ranges: readonly DevidRange[], devid: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const range = ranges[mid]!;
    if (devid < range.start) hi = mid - 1;
    else if (devid > range.end) lo = mid + 1;
    else return true;
  }
  return false;
}

/** get_highest_supported_ivhd_type, on the blocks that could be read */
function pickIvhdType(r: ByteReader, blocks: readonly IvrsBlock[], issues: AcpiIssue[]): number | undefined {
  const first = blocks[0];
  if (!first) return undefined;
  // the kernel compares the u16 at byte 4 of every block it walks, whatever the block's kind
  const firstDevid = r.u16(first.offset + 4);
  let used = first.type;
  let usedAt = first.offset;
  for (const b of blocks) {
    if (b.type > IVHD_TYPE_MAX_SUPPORTED) break;
    if (r.u16(b.offset + 4) === firstDevid) {
      used = b.type;
      usedAt = b.offset;
    }
  }
  if (!isIvhdType(used)) issues.push({ code: "ivhd-type-unsupported", table: TABLE, offset: usedAt, blockType: used });
  return used;
}

function buildAliasTable(blocks: readonly IvrsBlock[], usedType: number | undefined): Map<number, Map<number, number>> {
  const table = new Map<number, Map<number, number>>();
  for (const b of blocks) {
    if (b.kind !== "ivhd" || b.type !== usedType) continue;
    let segment = table.get(b.segment);
    if (!segment) table.set(b.segment, (segment = new Map()));
    for (const { devid, alias } of b.derived.aliases) segment.set(devid, alias);
  }
  return table;
}

/** alias_table[devid] for a segment: the IVRS alias, or the devid itself when none was written */
export function ivrsAliasOf(table: IvrsTable, segment: number, devid: number): number {
  return table.aliasTable.get(segment)?.get(devid) ?? devid;
}
