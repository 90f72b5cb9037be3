import type { HostJson, SimulateJson, TransactionJson } from "../../core/sim/to-json.js";
import type { Style } from "./text.js";

const ARCH: Record<HostJson["iommu"], string> = { vtd: "VT-d", amd: "AMD-Vi", smmu: "SMMUv3", none: "no IOMMU" };

function hostLines(h: HostJson, s: Style): string[] {
  const iommu = h.iommu === "vtd" ? `VT-d ${h.mode} mode` : ARCH[h.iommu];
  const lines = [`${s.bold(`host ${h.name}`)}: kernel ${h.kernel}, ${iommu}${h.logFormat ? `, faults logged as ${h.logFormat}` : ""}`];
  if (h.policyText) lines.push(s.dim(`  ${h.policyText}`));
  for (const l of h.bootLog) lines.push(s.dim(`  boot: ${l}`));
  for (const d of h.domains) {
    const maps = d.mappings.map((m) => `${m.iova} → ${m.paddr} (${m.size}, ${m.perm})`).join("; ");
    lines.push(`  domain ${d.name} (${d.kind})${maps ? `: ${maps}` : ""}`);
  }
  if (h.entries.length > 0) {
    const byDomain = new Map<string, string[]>();
    for (const e of h.entries) {
      const domain = "domain" in e && typeof e.domain === "string" ? e.domain : e.kind === "vtd-sm-context" ? (e.pasidEntry?.domain ?? "(torn down)") : "(none)";
      byDomain.set(domain, [...(byDomain.get(domain) ?? []), e.rid]);
    }
    const title = h.iommu === "amd" ? "DTEs" : h.iommu === "smmu" ? "STEs" : "context entries";
    for (const [domain, rids] of byDomain) {
      const shown = rids.length > 8 ? `${rids.slice(0, 6).join(", ")} … ${rids[rids.length - 1]} (${rids.length})` : rids.join(", ");
      lines.push(`  ${title} → ${domain}: ${shown}`);
    }
  }
  return lines;
}

function transactionLines(t: TransactionJson, s: Style): string[] {
  const title = `#${t.index + 1}${t.name ? ` ${t.name}` : ""}`;
  const lines = [s.bold(title)];
  const width = Math.max(...t.steps.map((x) => x.host.length), t.outcome.host.length);
  for (const step of t.steps) lines.push(`  ${s.dim(step.host.padEnd(width))}  ${step.text}`);
  const o = t.outcome;
  const color = o.kind === "delivered" ? s.green : o.kind === "faulted" ? s.red : s.yellow;
  const word = /^(delivered|faulted:|dropped|not issued:)/.exec(o.text)?.[1] ?? "";
  lines.push(`  ${s.dim(o.host.padEnd(width))}  ${color(word)}${o.text.slice(word.length)}`);
  const log = Array.isArray(o.log) ? (o.log as string[]) : [];
  for (const l of log) lines.push(`  ${" ".repeat(width)}  ${s.dim("|")} ${l}`);
  if (t.expect.checked.length > 0) {
    if (t.expect.failures.length === 0) lines.push(`  ${" ".repeat(width)}  ${s.green("expect ok")} ${s.dim(`(${[...new Set(t.expect.checked)].join(", ")})`)}`);
    for (const f of t.expect.failures) lines.push(`  ${" ".repeat(width)}  ${s.red("expect failed")}: ${f.field}: expected ${f.expected}, got ${f.actual.split("\n")[0]}`);
  }
  return lines;
}

/** a scenario's run: the hosts as set up, then each transaction's hops and outcome, then the tally */
export function renderSimulation(data: SimulateJson, s: Style): string[] {
  const lines: string[] = [];
  lines.push(s.dim(`scenario ${data.scenario}${data.description ? `: ${data.description}` : ""}`));
  for (const h of data.hosts) lines.push(...hostLines(h, s));
  for (const w of data.warnings) lines.push(s.yellow(`warning: ${w.host ? `host ${w.host}: ` : ""}${w.message}`));
  for (const t of data.transactions) {
    lines.push("");
    lines.push(...transactionLines(t, s));
  }
  lines.push("");
  for (const w of data.missingWarnings) lines.push(`${s.red("expect failed")}: no warning says "${w}"`);
  const sum = data.summary;
  const tally = [`${sum.delivered} delivered`, `${sum.faulted} faulted`, `${sum.dropped} dropped`, ...(sum.notIssued > 0 ? [`${sum.notIssued} not issued`] : [])].join(", ");
  const expectText =
    sum.expectationsChecked === 0
      ? "no expectations"
      : sum.expectationsFailed === 0
        ? s.green(`all ${sum.expectationsChecked} expectations held`)
        : s.red(`${sum.expectationsFailed} of ${sum.expectationsChecked} expectations failed`);
  lines.push(`${data.transactions.length} transaction${data.transactions.length === 1 ? "" : "s"}: ${tally}; ${expectText}`);
  return lines;
}
