import type { CauseJson, ContextTableJson, EntryJson } from "../../core/program/context-table.js";
import { steConfigName } from "../../core/program/messages.js";
import type { Style } from "./text.js";

const h2 = (n: number): string => n.toString(16).padStart(2, "0");

const causes = (cs: readonly CauseJson[]): string => cs.map((c) => c.text).join("; ");

function entryLine(e: EntryJson, s: Style): string {
  const why = s.dim(`← ${e.device}: ${causes(e.causes)}`);
  switch (e.kind) {
    case "vtd-context":
      return `  ${s.bold(e.rid)}  P  DID ${e.did}  TT ${e.translationType}  AW ${e.addressWidth}-bit  domain ${e.domain}  ${why}`;
    case "vtd-sm-context": {
      const pe = e.pasidEntry;
      const pasid = pe
        ? `RID_PASID ${e.ridPasid}: DID ${pe.did}  PGTT ${pe.pgttName}  AW ${pe.addressWidth}-bit  domain ${pe.domain}`
        : s.yellow(`RID_PASID ${e.ridPasid}: not present`);
      return `  ${s.bold(e.rid)}  P  → PASID table of ${e.pasidTableOf}  ${pasid}  ${why}`;
    }
    case "amd-dte": {
      const perm = [e.ir ? "IR" : "", e.iw ? "IW" : ""].filter(Boolean).join(" ") || "no access";
      const from = e.clonedFrom ? `  cloned from ${e.clonedFrom}` : "";
      return `  ${s.bold(e.rid)}  V TV  DomainID ${e.domainId}  Mode ${e.mode}  ${perm}  domain ${e.domain ?? "none"}${from}  ${why}`;
    }
    case "smmu-ste":
      return `  SID 0x${e.sid.toString(16)} (${e.rid})  config ${steConfigName(e.config)}  domain ${e.domain ?? "none"}  ${why}`;
  }
}

/** what Linux programs for the assignments: per assignment, then the tables, then conflicts and warnings */
export function renderContextTable(data: ContextTableJson, s: Style): string[] {
  const arch = data.arch === "vtd" ? `VT-d, ${data.mode} mode` : data.arch === "amd" ? "AMD-Vi" : "SMMUv3";
  const lines = [s.dim(`kernel ${data.kernel.version} (${data.kernel.from}), IOMMU ${data.iommu} (${arch}), ${data.addressWidth}-bit domains`), s.dim(data.policyText)];
  const ids = (d: ContextTableJson["domains"][number]): string =>
    d.ids.length === 0 ? "" : ` ${d.ids.map((i) => (i.unit === "all" ? `id ${i.id}` : `DID ${i.id} on ${i.unit}`)).join(", ")}`;
  lines.push(`domains: ${data.domains.map((d) => `${d.name} (${d.kind}${ids(d)})`).join("; ")}`);

  for (const a of data.assignments) {
    lines.push(`${s.bold(a.bdf)} → ${a.domain}${a.unit ? ` on ${a.unit}` : ""}`);
    for (const e of a.entries) {
      const action = e.action === "written" || e.action === "shared" ? e.action : s.red(e.action);
      lines.push(`  ${e.rid}  ${action}  ${s.dim(causes(e.causes))}`);
    }
    for (const sk of a.skipped) lines.push(s.dim(`  ${sk.rid}  no entry (${sk.text})`));
  }

  const units = [...new Set(data.entries.map((e) => e.unit))];
  for (const unit of units) {
    const roots = data.roots.filter((r) => r.unit === unit);
    if (roots.length > 0) {
      const halves = (r: (typeof roots)[number]): string => (data.mode === "scalable" ? `${h2(r.bus)}${r.lower ? " LP" : ""}${r.upper ? " UP" : ""}` : h2(r.bus));
      lines.push(`${s.bold(unit)} root entries present for bus ${roots.map(halves).join(", ")}`);
    }
    const title = data.arch === "amd" ? "device table entries" : data.arch === "smmu" ? "stream table entries" : "context entries";
    lines.push(`${s.bold(unit)} ${title}:`);
    for (const e of data.entries.filter((x) => x.unit === unit)) lines.push(entryLine(e, s));
  }
  if (data.entries.length === 0) lines.push(s.dim("no entries programmed"));

  for (const c of data.conflicts) lines.push(`${s.red("conflict")}: ${c.message}`);
  for (const i of data.issues) {
    const tag = i.severity === "error" ? s.red("error") : i.severity === "warning" ? s.yellow("warning") : s.dim("note");
    lines.push(`${tag}: ${i.message}`);
  }
  for (const w of data.warnings) lines.push(s.yellow(`warning: ${w}`));
  return lines;
}
