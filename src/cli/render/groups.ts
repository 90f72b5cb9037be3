import type { GroupsJson, MemberJson } from "../../core/json/groups.js";
import type { Style } from "./text.js";

function memberLine(m: MemberJson, s: Style): string {
  return [`  ${s.bold(m.bdf)}`, `[${m.vendor}:${m.device}]`, m.name !== null ? `${m.className}: ${m.name}` : m.className, s.dim(m.kind), m.driver ? s.dim(`driver ${m.driver}`) : ""].filter(Boolean).join("  ");
}

/** groups with members and, at -v, each member's reason chain */
export function renderGroups(data: GroupsJson, s: Style, verbose: boolean): string[] {
  const lines: string[] = [];
  lines.push(
    s.dim(
      `kernel ${data.kernel.version} (${data.kernel.from}), IOMMU ${data.iommu.kind}${data.iommu.units.length ? ` (${data.iommu.units.map((u) => u.name).join(", ")})` : ""}, ACS ${data.acsMode === "boot" ? "as enabled at boot (modelled)" : "as captured"}`,
    ),
  );
  for (const g of data.groups) {
    lines.push(s.bold(`group ${g.id}`) + s.dim(` (${g.members.length} function${g.members.length === 1 ? "" : "s"})`));
    for (const m of g.members) {
      lines.push(memberLine(m, s));
      if (verbose) for (const st of m.steps) lines.push(s.dim(`      ${st.text}`));
      if (m.dependsOnUnknownAcs.length) lines.push(s.yellow(`      depends on unknown ACS of ${m.dependsOnUnknownAcs.join(", ")} (taken as not isolating)`));
    }
  }
  for (const u of data.ungrouped) lines.push(`${s.bold(u.bdf)}  ${s.dim(u.text)}`);
  for (const w of data.warnings) lines.push(s.yellow(`warning: ${w}`));
  return lines;
}
