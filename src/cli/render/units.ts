import type { AmdUnitJson, IntelUnitJson, ScopeJson, SmmuUnitJson, UnitsJson } from "../../core/program/units-json.js";
import type { Style } from "./text.js";

const h2 = (n: number): string => n.toString(16).padStart(2, "0");
const h4 = (n: number): string => n.toString(16).padStart(4, "0");

/** BDFs, several to a line */
function functionLines(bdfs: readonly string[], indent: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bdfs.length; i += 5) lines.push(indent + bdfs.slice(i, i + 5).join("  "));
  return lines;
}

function coverage(fns: readonly string[], s: Style): string[] {
  if (fns.length === 0) return [s.dim("  covers no function")];
  return [`  covers ${fns.length} function${fns.length === 1 ? "" : "s"} (probe order):`, ...functionLines(fns, "    ")];
}

function scopeLine(sc: ScopeJson, s: Style): string {
  const where = `${h2(sc.startBus)}:${sc.path.join("/")}`;
  if (sc.typeName === "ioapic" || sc.typeName === "hpet") return s.dim(`  scope ${sc.typeName} ${sc.enumerationId} at ${where}`);
  if (sc.typeName === "namespace") return s.dim(`  scope ACPI namespace device ${sc.enumerationId} at ${where}`);
  const target = sc.function === null ? s.yellow("no such function") : sc.function;
  const buses = sc.buses ? s.dim(` (buses ${h2(sc.buses.secondary)}-${h2(sc.buses.subordinate)})`) : "";
  return `  scope ${sc.typeName} ${where} → ${target}${buses}`;
}

function intelUnit(u: IntelUnitJson, s: Style): string[] {
  const head = [
    s.bold(u.name),
    `DRHD at 0x${u.offset.toString(16)}`,
    `register base ${u.registerBase}`,
    `segment ${h4(u.segment)}`,
    u.includeAll ? "INCLUDE_PCI_ALL" : "scopes only",
    u.ignored ? s.yellow("ignored: no device of its scopes is present") : "",
  ].filter(Boolean);
  return [head.join("  "), ...u.scopes.map((sc) => scopeLine(sc, s)), ...coverage(u.functions, s)];
}

function amdUnit(u: AmdUnitJson, s: Style): string[] {
  const head = [s.bold(u.name), `IVHD type ${u.type} at 0x${u.offset.toString(16)}`, `IOMMU ${u.iommuBdf}`, `MMIO ${u.mmioBase}`, `segment ${h4(u.segment)}`];
  const ranges = u.ranges.map((r) => (r.start === r.end ? r.start : `${r.start}-${r.end}`)).join(", ");
  const lines = [head.join("  "), `  device entries: ${ranges || "none"}${u.lastDevid ? s.dim(` (last_bdf ${u.lastDevid})`) : ""}`];
  for (const a of u.aliases) lines.push(`  alias ${a.start === a.end ? a.start : `${a.start}-${a.end}`} → ${a.alias}`);
  for (const sp of u.specials) lines.push(s.dim(`  special ${sp.kind} ${sp.id} at ${sp.devid}`));
  return [...lines, ...coverage(u.functions, s)];
}

function smmuUnit(u: SmmuUnitJson, s: Style): string[] {
  const head =
    u.model === "assumed"
      ? [s.bold(u.name), s.dim("no IORT table: StreamID = requester ID assumed (the usual iommu-map or IORT mapping; a device tree's map is not captured)")]
      : [s.bold(u.name), `IORT ${u.model === "smmuv3" ? "SMMUv3" : "SMMUv1/v2"} node at 0x${(u.offset ?? 0).toString(16)}`, `base ${u.base}`];
  const lines = [head.join("  ")];
  for (const rc of u.rootComplexes) {
    const where = rc.offset === null ? "" : s.dim(` (root complex node at 0x${rc.offset.toString(16)})`);
    lines.push(`  root complex, segment ${h4(rc.segment)}${where}`);
    for (const r of rc.ranges) lines.push(`    requester IDs ${r.rids.start}-${r.rids.end} → StreamIDs ${r.streamIds.start}-${r.streamIds.end}`);
  }
  for (const r of u.rmrs) {
    const ranges = r.ranges.map((x) => `${x.base}-${x.limit}`).join(", ");
    lines.push(`  RMR at 0x${r.offset.toString(16)}: StreamIDs ${r.streamIds.start}-${r.streamIds.end} keep ${ranges} mapped 1:1${r.remapPermitted ? " (remapping permitted: relaxable)" : ""}`);
  }
  if (u.streams.length === 0) return [...lines, s.dim("  covers no function")];
  lines.push(`  covers ${u.streams.length} function${u.streams.length === 1 ? "" : "s"} (probe order), requester ID → StreamID:`);
  for (const st of u.streams) lines.push(`    ${st.bdf}  ${st.streamIds.map((x) => `${x.rid} → ${x.streamId}${x.cause === "own" ? "" : s.dim(` (${x.cause})`)}`).join(", ")}`);
  return lines;
}

/** the units, their scopes and coverage, the uncovered functions and the table issues */
export function renderUnits(data: UnitsJson, s: Style): string[] {
  const lines: string[] = [s.dim(`kernel ${data.kernel.version} (${data.kernel.from}), IOMMU ${data.iommu}${data.iommuOff ? ", turned off on the command line" : ""}: ${data.units.length} unit${data.units.length === 1 ? "" : "s"} in the kernel's order`)];
  for (const u of data.units) {
    if (u.kind === "intel") lines.push(...intelUnit(u, s));
    else if (u.kind === "amd") lines.push(...amdUnit(u, s));
    else if (u.kind === "smmu") lines.push(...smmuUnit(u, s));
    else lines.push(`${s.bold(u.name)}  ${s.dim("assumed: the source has no DMAR or IVRS table")}`, ...coverage(u.functions, s));
  }
  if (data.uncovered.length > 0) {
    lines.push(s.bold("not covered by any unit:"));
    for (const u of data.uncovered) lines.push(`  ${u.bdf}  ${s.dim(u.text)}`);
  }
  for (const i of data.issues) lines.push(`${i.severity === "error" ? s.red("error") : s.yellow("warning")}: ${i.message}`);
  for (const w of data.warnings) lines.push(s.yellow(`warning: ${w}`));
  return lines;
}
