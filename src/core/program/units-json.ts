/**
 * `units --json` (schema iommu-atlas/units@1): the IOMMU units the ACPI
 * tables describe, their scopes resolved against the topology, which
 * functions each covers (in the kernel's probe order) and which functions no
 * unit covers, with the reason.
 */
import type { IommuKind } from "../iommu/units.js";
import {
  IORT_RMR_REMAP_PERMITTED,
  acpiIssueSeverity,
  dmarUnits,
  formatAcpiIssue,
  iortRootComplex,
  iortSmmus,
  isDmarUnitIgnored,
  ivrsUnits,
  parseDmar,
  parseIvrs,
  resolveDmarScope,
} from "../acpi/index.js";
import type { AcpiIssue, AcpiSeverity, DmarDeviceScope, DmarTable, IortRmr, IvrsTable, IvrsUnit, PciResolver } from "../acpi/index.js";
import { forEachDmaAlias } from "../iommu/dma-alias.js";
import type { Prediction } from "../iommu/predict.js";
import { topologyResolver } from "../iommu/units.js";
import type { UngroupedReason } from "../iommu/units.js";
import { sourceToJson } from "../json/topology.js";
import type { SourceJson } from "../json/topology.js";
import { formatKernel } from "../kernel/version.js";
import type { Snapshot } from "../sources/snapshot.js";
import { formatBdf, formatRid } from "../topology/address.js";
import { formatNoUnit } from "./messages.js";

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

export interface ScopeJson {
  /** byte offset of the scope in the DMAR table */
  offset: number;
  type: number;
  typeName: "endpoint" | "bridge" | "ioapic" | "hpet" | "namespace" | "unknown";
  enumerationId: number;
  startBus: number;
  /** `dd.f` steps, the first on the start bus */
  path: string[];
  /** the present function the scope names, or null */
  function: string | null;
  /** the bus range below a bridge scope */
  buses: { secondary: number; subordinate: number } | null;
}

export interface IntelUnitJson {
  kind: "intel";
  name: string;
  /** Linux's seq_id (DMAR table order) */
  index: number;
  /** offset of the DRHD in the table */
  offset: number;
  segment: number;
  registerBase: string;
  includeAll: boolean;
  /** Linux ignores the unit: no device of its scopes is present (init_no_remapping_devices) */
  ignored: boolean;
  scopes: ScopeJson[];
  functions: string[];
}

export interface AmdUnitJson {
  kind: "amd";
  name: string;
  index: number;
  offset: number;
  segment: number;
  /** IVHD type: 0x10, 0x11 or 0x40 */
  type: string;
  /** the IOMMU's own PCI function; never covered by itself */
  iommuBdf: string;
  mmioBase: string;
  flags: number;
  /** devids the IVHD gives settings to, as requester-ID ranges */
  ranges: { start: string; end: string }[];
  /** alias_table writes, runs with one alias merged */
  aliases: { start: string; end: string; alias: string }[];
  specials: { kind: string; id: string; devid: string }[];
  /** the segment's last_bdf: larger requester IDs are out of scope */
  lastDevid: string | null;
  functions: string[];
}

export interface AssumedUnitJson {
  kind: "assumed";
  name: string;
  functions: string[];
}

/** one requester ID → StreamID run of a root complex's IORT ID mapping (or the identity of a device tree / lspci source) */
export interface StreamRangeJson {
  /** table offset of the IORT ID mapping; null without IORT */
  offset: number | null;
  /** first and last requester ID */
  rids: { start: string; end: string };
  /** first and last StreamID */
  streamIds: { start: string; end: string };
}

/** an Arm SMMU (arm64): from IORT, or assumed (one per segment, StreamID = requester ID) */
export interface SmmuUnitJson {
  kind: "smmu";
  name: string;
  /** "smmuv3", "smmu" (v1/v2), or "assumed" without IORT */
  model: "smmuv3" | "smmu" | "assumed";
  /** table offset of the IORT SMMU node; null when assumed */
  offset: number | null;
  base: string | null;
  /** the root complexes whose requester IDs it translates, with the mapping runs */
  rootComplexes: { segment: number; offset: number | null; ranges: StreamRangeJson[] }[];
  /** each covered function's StreamIDs, one per DMA alias, in probe order */
  streams: { bdf: string; streamIds: { rid: string; streamId: string; cause: string }[] }[];
  /** memory ranges an IORT RMR node keeps mapped for StreamIDs of this SMMU */
  rmrs: { offset: number; streamIds: { start: string; end: string }; ranges: { base: string; limit: string }[]; remapPermitted: boolean }[];
  functions: string[];
}

export type UnitJson = IntelUnitJson | AmdUnitJson | AssumedUnitJson | SmmuUnitJson;

export interface UnitsJson {
  schema: "iommu-atlas/units@1";
  source: SourceJson;
  kernel: { version: string; from: Prediction["kernelFrom"] };
  /** which table the units come from; "assumed" when the source has neither */
  iommu: IommuKind;
  iommuOff: boolean;
  units: UnitJson[];
  uncovered: { bdf: string; reason: UngroupedReason; text: string }[];
  issues: { table: string; code: string; severity: AcpiSeverity; offset: number; message: string }[];
  warnings: string[];
}

const SCOPE_TYPE_NAMES = ["unknown", "endpoint", "bridge", "ioapic", "hpet", "namespace"] as const;

function scopeToJson(scope: DmarDeviceScope, segment: number, resolver: PciResolver): ScopeJson {
  const at = resolveDmarScope(scope, segment, resolver);
  const range = at ? resolver.bridgeRange(segment, at.bus, at.devfn) : undefined;
  return {
    offset: scope.offset,
    type: scope.type,
    typeName: SCOPE_TYPE_NAMES[scope.type] ?? "unknown",
    enumerationId: scope.enumerationId,
    startBus: scope.startBus,
    path: scope.path.map((p) => `${p.device.toString(16).padStart(2, "0")}.${p.function.toString(16)}`),
    function: at ? formatBdf(segment, at.bus, at.devfn) : null,
    buses: range ?? null,
  };
}

function intelUnits(dmar: DmarTable, resolver: PciResolver, covered: ReadonlyMap<string, readonly string[]>): IntelUnitJson[] {
  const all = dmarUnits(dmar);
  return all.map((u) => ({
    kind: "intel",
    name: u.name,
    index: u.index,
    offset: u.drhd.offset,
    segment: u.segment,
    registerBase: hex(u.registerBase),
    includeAll: u.includeAll,
    ignored: isDmarUnitIgnored(all, u, resolver),
    scopes: u.drhd.scopes.map((s) => scopeToJson(s, u.segment, resolver)),
    functions: [...(covered.get(u.name) ?? [])],
  }));
}

/** consecutive devids with one alias merged into runs */
function aliasRuns(unit: IvrsUnit): AmdUnitJson["aliases"] {
  const runs: { start: number; end: number; alias: number }[] = [];
  for (const { devid, alias } of unit.ivhd.derived.aliases) {
    const last = runs[runs.length - 1];
    if (last && last.alias === alias && last.end + 1 === devid) last.end = devid;
    else runs.push({ start: devid, end: devid, alias });
  }
  return runs.map((r) => ({ start: formatRid(r.start), end: formatRid(r.end), alias: formatRid(r.alias) }));
}

function amdUnits(ivrs: IvrsTable, covered: ReadonlyMap<string, readonly string[]>): AmdUnitJson[] {
  return ivrsUnits(ivrs).map((u) => ({
    kind: "amd",
    name: u.name,
    index: u.index,
    offset: u.ivhd.offset,
    segment: u.segment,
    type: hex(u.type),
    iommuBdf: formatBdf(u.segment, u.iommuBdf >> 8, u.iommuBdf & 0xff),
    mmioBase: hex(u.ivhd.mmioBase),
    flags: u.ivhd.flags,
    ranges: u.devids.map((r) => ({ start: formatRid(r.start), end: formatRid(r.end) })),
    aliases: aliasRuns(u),
    specials: u.specials.map((s) => ({ kind: s.kind, id: String(s.id), devid: formatRid(s.devid) })),
    lastDevid: u.lastDevid >= 0 ? formatRid(u.lastDevid) : null,
    functions: [...(covered.get(u.name) ?? [])],
  }));
}

const hexId = (n: number): string => `0x${n.toString(16)}`;

/** runs of consecutive requester IDs whose StreamIDs are consecutive too, per segment */
function streamRuns(p: Prediction, segment: number, unit: string): StreamRangeJson[] {
  const iort = p.layout.iort;
  if (iort) {
    const rc = iortRootComplex(iort, segment);
    const out: StreamRangeJson[] = [];
    for (const m of rc?.mappings ?? []) {
      // the mapping's own target: an SMMU node (mappings straight to an ITS group bypass the SMMU)
      const first = p.arm64!.streams.sidOf(segment, m.inputBase);
      const target = iort.byOffset.get(m.outputRef);
      if (!first || first.unit !== unit || (target?.kind !== "smmu" && target?.kind !== "smmuv3")) continue;
      // a last ID that the next mapping starts with belongs to that one (iortMapId)
      const shared = rc!.mappings.some((x) => x !== m && !x.single && x.inputBase === m.inputBase + m.idCount) ? 1 : 0;
      const last = m.single ? first.sid : first.sid + Math.min(m.idCount - shared, 0xffff - m.inputBase);
      const lastRid = m.single ? m.inputBase : Math.min(m.inputBase + m.idCount - shared, 0xffff);
      out.push({ offset: m.offset, rids: { start: formatRid(m.inputBase), end: formatRid(lastRid) }, streamIds: { start: hexId(first.sid), end: hexId(last) } });
    }
    return out;
  }
  return [{ offset: null, rids: { start: formatRid(0), end: formatRid(0xffff) }, streamIds: { start: hexId(0), end: hexId(0xffff) } }];
}

function smmuUnits(p: Prediction, covered: ReadonlyMap<string, readonly string[]>): SmmuUnitJson[] {
  const a = p.arm64!;
  const iort = p.layout.iort;
  const nodes = iort ? iortSmmus(iort) : [];
  const segments = [...new Set([...p.topology.functions.values()].map((f) => f.segment))].sort((x, y) => x - y);
  return a.streams.units.map((name, i) => {
    const node = a.streams.from === "iort" ? nodes[i] : undefined;
    const rootComplexes = segments
      .map((segment) => ({ segment, offset: iort ? (iortRootComplex(iort, segment)?.offset ?? null) : null, ranges: streamRuns(p, segment, name) }))
      .filter((rc) => rc.ranges.length > 0 && (iort || a.streams.sidOf(rc.segment, 0)?.unit === name));
    const functions = [...(covered.get(name) ?? [])];
    const streams = functions.map((bdf) => {
      const f = p.topology.functions.get(bdf)!;
      const ids: { rid: string; streamId: string; cause: string }[] = [];
      forEachDmaAlias(p.topology, p.props, f, (_q, alias) => {
        const t = a.streams.sidOf(f.segment, alias.rid);
        if (t) ids.push({ rid: formatRid(alias.rid), streamId: hexId(t.sid), cause: alias.cause === "bridge" ? `bridge ${alias.via} (${alias.rule})` : alias.cause });
        return undefined;
      });
      return { bdf, streamIds: ids };
    });
    const rmrs = (iort?.nodes ?? [])
      .filter((n): n is IortRmr => n.kind === "rmr")
      .flatMap((n) =>
        n.mappings
          .filter((m) => node !== undefined && m.outputRef === node.offset)
          .map((m) => ({
            offset: n.offset,
            streamIds: { start: hexId(m.outputBase), end: hexId(m.single ? m.outputBase : m.outputBase + m.idCount) },
            ranges: n.ranges.map((r) => ({ base: hex(r.base), limit: hex(r.base + r.length - 1n) })),
            remapPermitted: (n.flags & IORT_RMR_REMAP_PERMITTED) !== 0,
          })),
      );
    return {
      kind: "smmu" as const,
      name,
      model: node ? node.kind : "assumed",
      offset: node ? node.offset : null,
      base: node ? hex(node.base) : null,
      rootComplexes,
      streams,
      rmrs,
      functions,
    };
  });
}

function issuesToJson(issues: readonly AcpiIssue[]): UnitsJson["issues"] {
  return issues.map((i) => ({ table: i.table, code: i.code, severity: acpiIssueSeverity[i.code], offset: i.offset, message: formatAcpiIssue(i) }));
}

/** `units --json` from a prediction of the snapshot */
export function unitsToJson(snapshot: Snapshot, label: string, p: Prediction): UnitsJson {
  const covered = new Map(p.layout.units.map((u) => [u.name, u.functions]));
  // the layout skips parsing when the IOMMU is off; the units are still worth listing
  const dmar = p.layout.dmar ?? (snapshot.acpi.dmar ? parseDmar(snapshot.acpi.dmar) : undefined);
  const ivrs = p.layout.ivrs ?? (snapshot.acpi.ivrs && !snapshot.acpi.dmar ? parseIvrs(snapshot.acpi.ivrs) : undefined);
  let units: UnitJson[] = [];
  let iommu: UnitsJson["iommu"] = "assumed";
  if (dmar && (p.layout.kind === "intel" || p.params.iommuOff)) {
    units = intelUnits(dmar, topologyResolver(p.topology), covered);
    iommu = "intel";
  } else if (ivrs && (p.layout.kind === "amd" || p.params.iommuOff)) {
    units = amdUnits(ivrs, covered);
    iommu = "amd";
  } else if (p.layout.kind === "smmuv3" && p.arm64) {
    units = smmuUnits(p, covered);
    iommu = "smmuv3";
  } else if (p.layout.kind === "assumed" || p.layout.kind === "amd-inferred") {
    units = p.layout.units.map((u) => ({ kind: "assumed", name: u.name, functions: [...u.functions] }));
    iommu = p.layout.kind;
  }
  const warnings = p.warnings.filter((w) => w.startsWith("no DMAR") || w.startsWith("no IVRS"));
  if (dmar && iommu !== "intel") warnings.push("the DMAR table names no usable unit; assuming one IOMMU that covers every function");
  if (ivrs && iommu !== "amd") warnings.push("the IVRS table names no usable unit; assuming one IOMMU that covers every function");
  return {
    schema: "iommu-atlas/units@1",
    source: sourceToJson(snapshot, label),
    kernel: { version: formatKernel(p.kernel), from: p.kernelFrom },
    iommu,
    iommuOff: p.params.iommuOff,
    units,
    uncovered: [...p.layout.ungrouped].map(([bdf, reason]) => ({ bdf, reason, text: formatNoUnit(reason) })),
    issues: issuesToJson([...(dmar?.issues ?? []), ...(ivrs?.issues ?? []), ...(p.layout.iort?.issues ?? [])]),
    warnings,
  };
}
