import type { AliasRequestJson, CheckJson, FindingJson, SriovJson } from "../../core/plan/to-json.js";
import type { Style } from "./text.js";

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `SAFE: 0 errors, 1 warning; 2 guest alias requests refused` */
export function verdictLine(data: CheckJson, s: Style): string {
  const c = data.counts;
  const counts = [plural(c.errors, "error"), plural(c.warnings, "warning")];
  if (c.info > 0) counts.push(plural(c.info, "note"));
  const refused = c.refused > 0 ? `; ${plural(c.refused, "guest alias request")} refused` : "";
  const head = data.verdict === "safe" ? s.green(s.bold("SAFE")) : s.red(s.bold("UNSAFE"));
  return `${head}: ${counts.join(", ")}${refused}`;
}

function findingLines(f: FindingJson, s: Style): string[] {
  const label = f.severity === "error" ? s.red("error") : f.severity === "warning" ? s.yellow("warning") : s.dim("note");
  return [`${label}: ${f.text}`, ...f.details.map((d) => `    ${d.startsWith("  ") ? s.dim(d) : d}`)];
}

function requestLines(r: AliasRequestJson, s: Style): string[] {
  const lines = [
    `${s.yellow("refused")}: guest ${r.guest} asks for ${r.requesterIds.map((x) => x.rid).join(", ")} as DMA aliases of ${r.device} (line ${r.line})${r.reason ? `: "${r.reason}"` : ""}`,
  ];
  for (const x of r.requesterIds) for (const y of x.reasons) lines.push(`    ${y.text}`);
  for (const y of r.reasons) lines.push(`    ${s.dim(y.text)}`);
  return lines;
}

function sriovLines(x: SriovJson, s: Style): string[] {
  const lines = [
    `  ${s.bold(x.pf)}: ${plural(x.numVfs, "VF")} [${x.vfDevice}] (TotalVFs ${x.totalVfs}, enabled now ${x.currentVfs}), First VF Offset ${x.firstVfOffset}, VF Stride ${x.vfStride}`,
  ];
  for (const v of x.vfs) {
    const group = v.group === null ? "no group" : v.groupMembers.length === 1 ? `group ${v.group} (alone)` : `group ${v.group} with ${v.groupMembers.filter((m) => m !== v.bdf).join(", ")}`;
    lines.push(`    VF ${v.index}  ${v.bdf}  RID ${v.rid ?? "beyond bus ff"}${v.virtualBus ? s.dim(" (virtual bus)") : ""}  ${group}  ${s.dim(v.domain === null ? "undecided" : v.domain === "host" ? "host" : `guest ${v.domain}`)}`);
  }
  return lines;
}

function actionLines(data: CheckJson, s: Style): string[] {
  const a = data.actions;
  if (!a) return [s.red("no actions: the plan is unsafe; fix the errors above and check again")];
  const lines = [s.bold("actions:")];
  if (a.sriov.length) lines.push(s.dim("# SR-IOV first, before anything binds the VFs"), ...a.sriov);
  if (a.driverctl.length) {
    lines.push(s.dim("# driver overrides that persist across reboots (driverctl)"), ...a.driverctl);
    lines.push(s.dim("# or the same by hand through sysfs (until the next reboot)"), ...a.sysfs);
  }
  for (const g of a.guests) {
    if (g.functions.length === 0) continue;
    lines.push(s.dim(`# libvirt, guest ${g.guest}: inside <devices> (managed='yes' lets libvirt rebind the driver itself)`), ...g.libvirt);
    lines.push(s.dim(`# QEMU, guest ${g.guest}`), g.qemu.join(" "));
  }
  return lines;
}

/** verdict first, then findings, refused alias requests, SR-IOV and the actions */
export function renderCheck(data: CheckJson, s: Style): string[] {
  const lines = [verdictLine(data, s)];
  const iommu = data.iommu === "assumed" ? "IOMMU assumed" : `IOMMU ${data.iommu}`;
  lines.push(s.dim(`plan ${data.plan} on ${data.source.label}, kernel ${data.kernel.version} (${data.kernel.from}), ${iommu}`));
  for (const g of data.guests) lines.push(`guest ${s.bold(g.name)}: ${g.functions.map((f) => `${f.bdf}${f.group === null ? "" : s.dim(` (group ${f.group})`)}`).join(", ") || s.dim("no functions")}`);
  if (data.host.length) lines.push(`host keeps: ${data.host.map((f) => f.bdf).join(", ")}`);
  for (const w of data.warnings) lines.push(s.dim(`prediction: ${w}`));
  for (const f of data.findings) lines.push("", ...findingLines(f, s));
  for (const r of data.aliasRequests) lines.push("", ...requestLines(r, s));
  if (data.sriov.length) {
    lines.push("", s.bold("SR-IOV (before enabling):"));
    for (const x of data.sriov) lines.push(...sriovLines(x, s));
  }
  lines.push("", ...actionLines(data, s));
  return lines;
}
