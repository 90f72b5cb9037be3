import pc from "picocolors";
import type { BusNodeJson, FunctionJson, IssueJson } from "../../core/json/topology.js";

export interface Style {
  dim(s: string): string;
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

export function style(color: boolean): Style {
  const c = pc.createColors(color);
  return { dim: c.dim, bold: c.bold, red: c.red, green: c.green, yellow: c.yellow };
}

/** `ACS SV+ RR+ CR+ UF+`, `no ACS`, `ACS ?` */
export function acsText(f: FunctionJson): string {
  if (f.acs.state === "present") return `ACS ${f.acs.flags}`;
  if (f.acs.state === "unknown") return "ACS ?";
  return f.pcie && (f.pcie.type === 4 || f.pcie.type === 6 || f.multifunction) ? "no ACS" : "";
}

function bridgeText(f: FunctionJson): string {
  if (!f.bridge) return "";
  const h = (n: number | null): string => (n === null ? "??" : n.toString(16).padStart(2, "0"));
  return `[bus ${h(f.bridge.secondary)}-${h(f.bridge.subordinate)}]`;
}

/** one lspci-like line per function */
export function showLine(f: FunctionJson, s: Style): string {
  const parts = [
    s.bold(f.bdf),
    `${f.className} [${f.class.slice(0, 4)}]:`,
    f.name !== null ? `${f.name} [${f.vendor}:${f.device}]` : `[${f.vendor}:${f.device}]`,
    f.revision !== null ? `(rev ${f.revision})` : "",
    s.dim(f.kind),
    bridgeText(f),
    acsText(f),
    f.kernelGroup !== null ? `group ${f.kernelGroup}` : "",
    f.driver ? s.dim(`driver ${f.driver}`) : "",
    f.scanned ? "" : s.yellow("not scanned"),
  ];
  return parts.filter((p) => p !== "").join("  ");
}

function treeLabel(f: FunctionJson, s: Style): string {
  const devfn = f.bdf.slice(-4);
  const parts = [
    s.bold(devfn),
    `[${f.vendor}:${f.device}]`,
    f.name !== null ? `${f.className}: ${f.name}` : f.className,
    s.dim(f.kind),
    bridgeText(f),
    acsText(f),
    f.kernelGroup !== null ? `group ${f.kernelGroup}` : "",
  ];
  return parts.filter((p) => p !== "").join("  ");
}

/** an indented tree like `lspci -tv`, with port types and ACS state */
export function renderTree(roots: readonly BusNodeJson[], s: Style): string[] {
  const lines: string[] = [];
  const walk = (node: BusNodeJson, prefix: string): void => {
    node.functions.forEach((f, i) => {
      const last = i === node.functions.length - 1;
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${treeLabel(f, s)}`);
      const childPrefix = prefix + (last ? "   " : "│  ");
      for (const child of f.children) {
        lines.push(`${childPrefix}${s.dim(`bus ${child.bus}${child.virtual ? " (virtual)" : ""}`)}`);
        walk(child, childPrefix);
      }
    });
  };
  for (const r of roots) {
    lines.push(s.bold(`[${r.bus}]`) + s.dim(r.virtual ? " virtual bus" : " root bus"));
    walk(r, "");
  }
  return lines;
}

export function issueLines(issues: readonly IssueJson[], s: Style): string[] {
  return issues.map((i) => `${i.severity === "error" ? s.red("error") : i.severity === "warning" ? s.yellow("warning") : s.dim("note")}: ${i.message}`);
}
