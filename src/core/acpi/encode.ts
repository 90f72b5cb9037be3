/**
 * Small encoders for synthetic DMAR / IVRS tables (tests, examples, what-if
 * scenarios). They write well-formed tables; to build a malformed one, patch
 * the bytes afterwards and call `setAcpiChecksum` if the checksum should stay valid.
 */
import { ACPI_HEADER_LENGTH } from "./header.js";

export const u16le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
export const u32le = (v: number): number[] => [...u16le(v & 0xffff), ...u16le((v >>> 16) & 0xffff)];
export const u64le = (v: bigint): number[] => {
  const out: number[] = [];
  for (let i = 0n; i < 8n; i++) out.push(Number((v >> (8n * i)) & 0xffn));
  return out;
};
const text = (s: string, size: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push(i < s.length ? s.charCodeAt(i) & 0xff : 0x20);
  return out;
};

/** makes the byte sum of the whole buffer 0 by rewriting the checksum byte (offset 9) */
export function setAcpiChecksum(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 10) return bytes;
  bytes[9] = 0;
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  bytes[9] = (0x100 - sum) & 0xff;
  return bytes;
}

/** a whole table: 36-byte header with length and checksum filled in, then `body` */
export function encodeAcpiTable(signature: string, body: readonly number[], revision = 1): Uint8Array {
  const length = ACPI_HEADER_LENGTH + body.length;
  const bytes = new Uint8Array([
    ...text(signature, 4),
    ...u32le(length),
    revision,
    0, // checksum
    ...text("ATLAS", 6),
    ...text("SYNTH", 8),
    ...u32le(1),
    ...text("ATLS", 4),
    ...u32le(1),
    ...body,
  ]);
  return setAcpiChecksum(bytes);
}

export interface DmarScopeSpec {
  readonly type: number;
  readonly startBus: number;
  /** [device, function] pairs */
  readonly path: readonly (readonly [number, number])[];
  readonly enumerationId?: number;
}

export function encodeDmarScope(s: DmarScopeSpec): number[] {
  const path = s.path.flatMap(([device, fn]) => [device, fn]);
  return [s.type, 6 + path.length, 0, 0, s.enumerationId ?? 0, s.startBus, ...path];
}

export interface DrhdSpec {
  readonly includeAll?: boolean;
  readonly segment?: number;
  readonly registerBase: bigint;
  readonly scopes?: readonly DmarScopeSpec[];
}

export function encodeDrhd(d: DrhdSpec): number[] {
  const scopes = (d.scopes ?? []).flatMap(encodeDmarScope);
  return [...u16le(0), ...u16le(16 + scopes.length), d.includeAll ? 1 : 0, 0, ...u16le(d.segment ?? 0), ...u64le(d.registerBase), ...scopes];
}

export interface RmrrSpec {
  readonly segment?: number;
  readonly base: bigint;
  readonly limit: bigint;
  readonly scopes?: readonly DmarScopeSpec[];
}

export function encodeRmrr(m: RmrrSpec): number[] {
  const scopes = (m.scopes ?? []).flatMap(encodeDmarScope);
  return [...u16le(1), ...u16le(24 + scopes.length), 0, 0, ...u16le(m.segment ?? 0), ...u64le(m.base), ...u64le(m.limit), ...scopes];
}

/** a DMAR table; `structures` are already-encoded remapping structures */
export function encodeDmar(structures: readonly (readonly number[])[], hostAddressWidth = 39, flags = 0): Uint8Array {
  return encodeAcpiTable("DMAR", [hostAddressWidth - 1, flags, ...new Array<number>(10).fill(0), ...structures.flat()]);
}

/** 4-byte IVHD entry {type, devid, DTE setting} */
export const ivhdEntry4 = (type: number, devid: number, dteSetting = 0): number[] => [type, ...u16le(devid), dteSetting];
/** 8-byte alias entry (0x42 / 0x43): devid, DTE setting, alias at bytes 5–6 */
export const ivhdAliasEntry = (type: number, devid: number, alias: number, dteSetting = 0): number[] => [
  type,
  ...u16le(devid),
  dteSetting,
  0,
  ...u16le(alias),
  0,
];
/** 8-byte special entry (0x48): handle, devid, variety 1 IOAPIC / 2 HPET */
export const ivhdSpecialEntry = (handle: number, devid: number, variety: number, dteSetting = 0): number[] => [
  0x48,
  0,
  0,
  dteSetting,
  handle,
  ...u16le(devid),
  variety,
];

export interface IvhdSpec {
  /** 0x10 (24-byte header) or 0x11 / 0x40 (40-byte header) */
  readonly type: number;
  readonly flags?: number;
  readonly iommuBdf: number;
  readonly capOffset?: number;
  readonly mmioBase?: bigint;
  readonly segment?: number;
  readonly info?: number;
  readonly attributes?: number;
  readonly efr?: bigint;
  /** already-encoded device entries */
  readonly entries: readonly (readonly number[])[];
}

export function encodeIvhd(h: IvhdSpec): number[] {
  const entries = h.entries.flat();
  const headerSize = h.type === 0x10 ? 24 : 40;
  const header = [
    h.type,
    h.flags ?? 0,
    ...u16le(headerSize + entries.length),
    ...u16le(h.iommuBdf),
    ...u16le(h.capOffset ?? 0x40),
    ...u64le(h.mmioBase ?? 0xfed80000n),
    ...u16le(h.segment ?? 0),
    ...u16le(h.info ?? 0),
    ...u32le(h.attributes ?? 0),
  ];
  if (headerSize === 40) header.push(...u64le(h.efr ?? 0n), ...u64le(0n));
  return [...header, ...entries];
}

/** an IVRS table; `blocks` are already-encoded IVHD / IVMD blocks */
export function encodeIvrs(blocks: readonly (readonly number[])[], ivinfo = 0x2800): Uint8Array {
  return encodeAcpiTable("IVRS", [...u32le(ivinfo), ...new Array<number>(8).fill(0), ...blocks.flat()]);
}
