/**
 * The ACPI IORT table (Arm IO Remapping Table, Arm DEN 0049): which SMMU
 * translates which PCI root complex or platform device, and how requester
 * IDs become StreamIDs (hw-models.md §4, kernel-spec.md §7.3).
 *
 * Layout: ACPI header (36 bytes), u32 node count (36), u32 offset of the
 * node array (40), then nodes, each starting with u8 type, u16 length,
 * u8 revision, u32 identifier, u32 number of ID mappings, u32 offset of the
 * ID mapping array (from the node's start). An ID mapping is 20 bytes:
 * input base, number of IDs minus one, output base, output reference (table
 * offset of the node the IDs go to), flags (bit 0 single mapping).
 */
import { ByteReader } from "../bytes/reader.js";
import { parseAcpiHeader, walkStructures } from "./header.js";
import type { AcpiTableHeader } from "./header.js";
import type { AcpiIssue } from "./issues.js";

const TABLE = "IORT";

const IORT_NODE_COUNT = 36; // u32
const IORT_NODE_OFFSET = 40; // u32
/** where the node array starts in every revision's examples (after a reserved u32 at 44) */
export const IORT_NODES_OFFSET = 48;

export const IORT_NODE_ITS_GROUP = 0;
export const IORT_NODE_NAMED_COMPONENT = 1;
export const IORT_NODE_ROOT_COMPLEX = 2;
export const IORT_NODE_SMMU = 3;
export const IORT_NODE_SMMU_V3 = 4;
export const IORT_NODE_PMCG = 5;
export const IORT_NODE_RMR = 6;

/** ID mapping flag: every input ID maps to the one output base (an SMMU's or device's own MSI ID) */
export const IORT_ID_SINGLE_MAPPING = 0x1;
/** RMR flags bit 0: the OS may remap the range (Linux: a relaxable direct region) */
export const IORT_RMR_REMAP_PERMITTED = 0x1;
export const IORT_RMR_ACCESS_PRIVILEGE = 0x2;

// node header fields
const NODE_HEADER = 16;
const ID_MAPPING_SIZE = 20;
const RMR_DESC_SIZE = 20;

// fixed part of each node type (header included), as the kernel's ACPICA structures have it
const FIXED: Record<number, number> = {
  [IORT_NODE_ITS_GROUP]: 20, // u32 ITS count @16, then u32 ITS ids
  [IORT_NODE_NAMED_COMPONENT]: 29, // flags @16, memory properties @20, address size limit @28, name @29
  [IORT_NODE_ROOT_COMPLEX]: 36, // memory properties @16, ATS @24, segment @28, address size limit @32
  [IORT_NODE_SMMU]: 76, // base @16, span @24, model @32, flags @36, interrupt arrays …
  [IORT_NODE_SMMU_V3]: 68, // base @16, flags @24, VATOS @32, model @40, GSIVs @44..@56, PXM @60, DeviceID mapping index @64
  [IORT_NODE_PMCG]: 40, // page 0 base @16, overflow GSIV @24, node reference @28, page 1 base @32
  [IORT_NODE_RMR]: 28, // flags @16, descriptor count @20, descriptor offset @24
};

export interface IortIdMapping {
  /** table offset of this mapping */
  readonly offset: number;
  readonly inputBase: number;
  /** the field as written: number of IDs minus one */
  readonly idCount: number;
  readonly outputBase: number;
  /** table offset of the node the IDs go to */
  readonly outputRef: number;
  readonly single: boolean;
}

interface NodeBase {
  /** table offset of the node */
  readonly offset: number;
  readonly type: number;
  readonly length: number;
  readonly revision: number;
  readonly identifier: number;
  readonly mappings: readonly IortIdMapping[];
}

export interface IortItsGroup extends NodeBase {
  readonly kind: "its-group";
  readonly itsIds: readonly number[];
}
export interface IortNamedComponent extends NodeBase {
  readonly kind: "named-component";
  readonly flags: number;
  readonly name: string;
}
export interface IortRootComplex extends NodeBase {
  readonly kind: "root-complex";
  readonly segment: number;
  /** bit 0: the root complex supports ATS */
  readonly ats: number;
  readonly memoryAddressLimit: number;
}
export interface IortSmmu extends NodeBase {
  readonly kind: "smmu";
  readonly base: bigint;
  readonly span: bigint;
  readonly model: number;
  readonly flags: number;
}
export interface IortSmmuV3 extends NodeBase {
  readonly kind: "smmuv3";
  readonly base: bigint;
  readonly flags: number;
  readonly model: number;
  /** index of the mapping that carries the SMMU's own MSI DeviceID (when it has one) */
  readonly deviceIdMappingIndex: number | undefined;
}
export interface IortPmcg extends NodeBase {
  readonly kind: "pmcg";
  readonly base: bigint;
  readonly nodeRef: number;
}
export interface IortRmrRange {
  readonly offset: number;
  readonly base: bigint;
  readonly length: bigint;
}
export interface IortRmr extends NodeBase {
  readonly kind: "rmr";
  readonly flags: number;
  readonly ranges: readonly IortRmrRange[];
}
export interface IortRawNode extends NodeBase {
  readonly kind: "raw";
}

export type IortNode = IortItsGroup | IortNamedComponent | IortRootComplex | IortSmmu | IortSmmuV3 | IortPmcg | IortRmr | IortRawNode;

export interface IortTable {
  readonly header: AcpiTableHeader | undefined;
  readonly nodes: readonly IortNode[];
  /** node by its table offset (what ID mappings refer to) */
  readonly byOffset: ReadonlyMap<number, IortNode>;
  readonly issues: readonly AcpiIssue[];
}

/**
 * Reads an IORT table. Never throws: whatever cannot be read becomes an
 * issue at its byte offset and the rest is kept. Like Linux, it reads as
 * many nodes as the node count says.
 */
export function parseIort(bytes: Uint8Array): IortTable {
  const { header, end, issues: headerIssues } = parseAcpiHeader(bytes, TABLE);
  const issues: AcpiIssue[] = [...headerIssues];
  const nodes: IortNode[] = [];
  const done = (): IortTable => ({ header, nodes, byOffset: new Map(nodes.map((n) => [n.offset, n])), issues });
  if (!header) return done();
  const r = new ByteReader(bytes.subarray(0, end));
  const count = r.u32(IORT_NODE_COUNT);
  const first = r.u32(IORT_NODE_OFFSET);
  if (count === undefined || first === undefined) {
    issues.push({ code: "table-truncated", table: TABLE, offset: IORT_NODE_COUNT, needed: IORT_NODE_OFFSET + 4, available: r.length });
    return done();
  }
  if (first < IORT_NODE_OFFSET + 4 || first > r.length) {
    issues.push({ code: "iort-node-offset-invalid", table: TABLE, offset: IORT_NODE_OFFSET, nodeOffset: first });
    return done();
  }
  walkStructures(r, first, TABLE, 1, issues, (offset, type, length) => nodes.push(readNode(r, offset, type, length, issues)), 1, count);
  if (nodes.length < count && !issues.some((i) => i.code.startsWith("structure-"))) {
    issues.push({ code: "iort-node-count", table: TABLE, offset: IORT_NODE_COUNT, declared: count, found: nodes.length });
  }
  const byOffset = new Map(nodes.map((n) => [n.offset, n]));
  for (const n of nodes) {
    for (const m of n.mappings) {
      if (!byOffset.has(m.outputRef)) issues.push({ code: "iort-reference-invalid", table: TABLE, offset: m.offset + 12, reference: m.outputRef });
    }
  }
  return { header, nodes, byOffset, issues };
}

function readNode(r: ByteReader, offset: number, type: number, length: number, issues: AcpiIssue[]): IortNode {
  const u32 = (at: number): number => r.u32(offset + at) ?? 0;
  const u64 = (at: number): bigint => r.u64(offset + at) ?? 0n;
  const fixed = FIXED[type] ?? NODE_HEADER;
  const base: NodeBase = {
    offset,
    type,
    length,
    revision: r.u8(offset + 3) ?? 0,
    identifier: length >= 8 ? u32(4) : 0,
    mappings: [],
  };
  if (length < Math.max(fixed, NODE_HEADER)) {
    issues.push({ code: "structure-too-short", table: TABLE, offset, type, length, minimum: Math.max(fixed, NODE_HEADER) });
    return { ...base, kind: "raw" };
  }
  const mappings = readMappings(r, offset, length, u32(8), u32(12), issues);
  const node = { ...base, mappings };
  switch (type) {
    case IORT_NODE_ITS_GROUP: {
      const n = u32(16);
      const itsIds: number[] = [];
      for (let i = 0; i < n && 20 + 4 * i + 4 <= length; i++) itsIds.push(u32(20 + 4 * i));
      if (itsIds.length < n) issues.push({ code: "iort-array-past-end", table: TABLE, offset: offset + 16, what: "ITS identifiers", count: n });
      return { ...node, kind: "its-group", itsIds };
    }
    case IORT_NODE_NAMED_COMPONENT: {
      let name = "";
      for (let at = offset + 29; at < offset + length; at++) {
        const c = r.u8(at) ?? 0;
        if (c === 0) break;
        name += String.fromCharCode(c);
      }
      return { ...node, kind: "named-component", flags: u32(16), name };
    }
    case IORT_NODE_ROOT_COMPLEX:
      return { ...node, kind: "root-complex", ats: u32(24), segment: u32(28), memoryAddressLimit: r.u8(offset + 32) ?? 0 };
    case IORT_NODE_SMMU:
      return { ...node, kind: "smmu", base: u64(16), span: u64(24), model: u32(32), flags: u32(36) };
    case IORT_NODE_SMMU_V3: {
      // revision 1+ carries the DeviceID mapping index; 0xffffffff or past the mappings: none
      const index = u32(64);
      return {
        ...node,
        kind: "smmuv3",
        base: u64(16),
        flags: u32(24),
        model: u32(40),
        deviceIdMappingIndex: base.revision >= 1 && index < mappings.length ? index : undefined,
      };
    }
    case IORT_NODE_PMCG:
      return { ...node, kind: "pmcg", base: u64(16), nodeRef: u32(28) };
    case IORT_NODE_RMR: {
      const n = u32(20);
      const at = u32(24);
      const ranges: IortRmrRange[] = [];
      if (n === 0) issues.push({ code: "iort-rmr-empty", table: TABLE, offset: offset + 20 });
      for (let i = 0; i < n; i++) {
        const d = at + i * RMR_DESC_SIZE;
        if (d < fixed || d + RMR_DESC_SIZE > length) {
          issues.push({ code: "iort-array-past-end", table: TABLE, offset: offset + 24, what: "RMR memory ranges", count: n });
          break;
        }
        const rangeBase = u64(d);
        const rangeLength = u64(d + 8);
        if (rangeLength === 0n) issues.push({ code: "iort-rmr-range-invalid", table: TABLE, offset: offset + d, base: Number(rangeBase) });
        else ranges.push({ offset: offset + d, base: rangeBase, length: rangeLength });
      }
      return { ...node, kind: "rmr", flags: u32(16), ranges };
    }
    default:
      issues.push({ code: "iort-node-type-unknown", table: TABLE, offset, nodeType: type });
      return { ...node, kind: "raw" };
  }
}

function readMappings(r: ByteReader, node: number, length: number, count: number, at: number, issues: AcpiIssue[]): IortIdMapping[] {
  const out: IortIdMapping[] = [];
  if (count === 0) return out;
  for (let i = 0; i < count; i++) {
    const rel = at + i * ID_MAPPING_SIZE;
    if (rel < NODE_HEADER || rel + ID_MAPPING_SIZE > length) {
      issues.push({ code: "iort-array-past-end", table: TABLE, offset: node + 12, what: "ID mappings", count });
      break;
    }
    const offset = node + rel;
    const m: IortIdMapping = {
      offset,
      inputBase: r.u32(offset) ?? 0,
      idCount: r.u32(offset + 4) ?? 0,
      outputBase: r.u32(offset + 8) ?? 0,
      outputRef: r.u32(offset + 12) ?? 0,
      single: ((r.u32(offset + 16) ?? 0) & IORT_ID_SINGLE_MAPPING) !== 0,
    };
    if (!m.single && m.inputBase + m.idCount > 0xffffffff) issues.push({ code: "iort-mapping-overflow", table: TABLE, offset: offset + 4, inputBase: m.inputBase, idCount: m.idCount });
    out.push(m);
  }
  return out;
}

/** the SMMU nodes (v1/v2 and v3), in table order */
export function iortSmmus(t: IortTable): (IortSmmu | IortSmmuV3)[] {
  return t.nodes.filter((n): n is IortSmmu | IortSmmuV3 => n.kind === "smmu" || n.kind === "smmuv3");
}

export type IortMapResult =
  | { readonly kind: "smmu"; readonly smmu: IortSmmu | IortSmmuV3; readonly streamId: number; readonly mapping: IortIdMapping }
  /** the IDs go straight to an ITS group (MSIs only): no SMMU translates this device */
  | { readonly kind: "no-smmu"; readonly reached: IortNode | undefined }
  | { readonly kind: "unmapped" };

/**
 * iort_node_map_id: follows a node's ID mappings from `id` until an SMMU
 * node is reached (the StreamID), another end (ITS group: no SMMU), or no
 * mapping covers the ID. A mapping covers [inputBase, inputBase + idCount]
 * (the count field is one less than the number of IDs); a single mapping
 * gives its output base whatever the input.
 */
export function iortMapId(t: IortTable, from: IortNode, id: number): IortMapResult {
  let node: IortNode | undefined = from;
  let cur = id;
  let last: IortIdMapping | undefined;
  for (let hops = 0; node && hops < 8; hops++) {
    if (hops > 0 && (node.kind === "smmu" || node.kind === "smmuv3")) return { kind: "smmu", smmu: node, streamId: cur, mapping: last! };
    if (hops > 0 && node.kind === "its-group") return { kind: "no-smmu", reached: node };
    // a single mapping is honoured only on named components and root complexes (Linux skips it elsewhere)
    const singleOk = node.kind === "named-component" || node.kind === "root-complex";
    const covering = node.mappings.filter((x) => (x.single ? singleOk : cur >= x.inputBase && cur - x.inputBase <= x.idCount));
    // firmware (QEMU among them) writes the count field as the number of IDs, so a range's last ID is
    // also the next range's first: Linux then takes the mapping that does not end on the ID
    const m: IortIdMapping | undefined = covering.find((x) => x.single || cur - x.inputBase !== x.idCount) ?? covering[0];
    if (!m) return hops === 0 ? { kind: "unmapped" } : { kind: "no-smmu", reached: node };
    cur = m.single ? m.outputBase : (m.outputBase + (cur - m.inputBase)) >>> 0;
    last = m;
    node = t.byOffset.get(m.outputRef);
  }
  return { kind: "no-smmu", reached: node };
}

/** the root complex node of a PCI segment */
export function iortRootComplex(t: IortTable, segment: number): IortRootComplex | undefined {
  return t.nodes.find((n): n is IortRootComplex => n.kind === "root-complex" && n.segment === segment);
}
