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

/** one ID mapping of an IORT node; `to` is the index of the output node in the spec's node list */
export interface IortMappingSpec {
  readonly inputBase: number;
  /** number of IDs (written as count − 1) */
  readonly count: number;
  readonly outputBase: number;
  readonly to: number;
  readonly single?: boolean;
}

export type IortNodeSpec =
  | { readonly type: "its"; readonly its: readonly number[] }
  | { readonly type: "root-complex"; readonly segment: number; readonly mappings: readonly IortMappingSpec[]; readonly ats?: number }
  | { readonly type: "smmuv3"; readonly base: bigint; readonly mappings?: readonly IortMappingSpec[]; readonly model?: number }
  | { readonly type: "smmu"; readonly base: bigint; readonly span?: bigint; readonly mappings?: readonly IortMappingSpec[] }
  | { readonly type: "named-component"; readonly name: string; readonly mappings: readonly IortMappingSpec[] }
  | { readonly type: "rmr"; readonly flags: number; readonly ranges: readonly (readonly [bigint, bigint])[]; readonly mappings: readonly IortMappingSpec[] };

/** an IORT table (revision 3 node layouts, as QEMU and current firmware write them) */
export function encodeIort(nodes: readonly IortNodeSpec[]): Uint8Array {
  const first = 48;
  const fixed = (n: IortNodeSpec): number[] => {
    const pad = (a: number[], size: number): number[] => [...a, ...new Array<number>(Math.max(0, size - a.length)).fill(0)];
    switch (n.type) {
      case "its":
        return [...u32le(n.its.length), ...n.its.flatMap(u32le)];
      case "root-complex":
        return pad([...u64le(1n), ...u32le(n.ats ?? 0), ...u32le(n.segment), 64], 20);
      case "smmuv3":
        return pad([...u64le(n.base), ...u32le(0), ...u32le(0), ...u64le(0n), ...u32le(n.model ?? 0)], 52);
      case "smmu":
        return pad([...u64le(n.base), ...u64le(n.span ?? 0x10000n)], 60);
      case "named-component": {
        const name = [...n.name].map((c) => c.charCodeAt(0) & 0xff);
        return pad([...u32le(0), ...u64le(0n), 64, ...name, 0], 4 * Math.ceil((13 + name.length + 1) / 4));
      }
      case "rmr":
        return [...u32le(n.flags), ...u32le(n.ranges.length), ...u32le(0)];
    }
  };
  const mappingsOf = (n: IortNodeSpec): readonly IortMappingSpec[] => (n.type === "its" ? [] : (n.mappings ?? []));
  // node sizes first, for the offsets mappings refer to
  const sizes = nodes.map((n) => 16 + fixed(n).length + (n.type === "rmr" ? n.ranges.length * 20 : 0) + mappingsOf(n).length * 20);
  const offsets: number[] = [];
  let at = first;
  for (const s of sizes) {
    offsets.push(at);
    at += s;
  }
  const body: number[] = [...u32le(nodes.length), ...u32le(first), ...u32le(0)];
  nodes.forEach((n, i) => {
    const type = { its: 0, "named-component": 1, "root-complex": 2, smmu: 3, smmuv3: 4, rmr: 6 }[n.type];
    const fx = fixed(n);
    const maps = mappingsOf(n);
    const rangesAt = 16 + fx.length;
    const mapsAt = rangesAt + (n.type === "rmr" ? n.ranges.length * 20 : 0);
    if (n.type === "rmr") fx.splice(8, 4, ...u32le(rangesAt));
    body.push(type, ...u16le(sizes[i]!), 3, ...u32le(i), ...u32le(maps.length), ...u32le(maps.length > 0 ? mapsAt : 0), ...fx);
    if (n.type === "rmr") for (const [base, len] of n.ranges) body.push(...u64le(base), ...u64le(len), ...u32le(0));
    for (const m of maps) body.push(...u32le(m.inputBase), ...u32le(m.count - 1), ...u32le(m.outputBase), ...u32le(offsets[m.to] ?? 0), ...u32le(m.single ? 1 : 0));
  });
  return encodeAcpiTable("IORT", body, 3);
}
