/**
 * `check --json` (schema iommu-atlas/check@1): the check result as plain
 * JSON, texts included, so the text renderer and automation read one model.
 */
import { stepToJson } from "../json/groups.js";
import type { StepJson } from "../json/groups.js";
import { sourceToJson } from "../json/topology.js";
import type { SourceJson } from "../json/topology.js";
import { formatKernel } from "../kernel/version.js";
import { className, hex4 } from "../names.js";
import type { Snapshot } from "../sources/snapshot.js";
import { formatRid } from "../topology/address.js";
import type { Actions } from "./actions.js";
import type { CheckResult } from "./check.js";
import { findingSeverity } from "./findings.js";
import type { Finding, Severity } from "./findings.js";
import { findingDetails, findingText, refusalText, requestReasonText } from "./messages.js";
import { formatPlanProblem } from "./plan.js";
import type { PlanProblem } from "./plan.js";

export interface FindingJson {
  code: Finding["code"];
  severity: Severity;
  text: string;
  details: string[];
  /** the finding's fields; bigints as hex text, group steps as in groups --json */
  detail: Record<string, unknown>;
}

export interface AssignedJson {
  bdf: string;
  vendor: string;
  device: string;
  className: string;
  /** bound now, per the source */
  driverNow: string | null;
  /** after the plan; null: left as it is */
  driver: string | null;
  group: number | null;
  /** the plan entry that placed it */
  selectedBy: { path: string; line: number; text: string };
}

export interface SriovVfJson {
  index: number;
  bdf: string;
  rid: string | null;
  virtualBus: boolean;
  group: number | null;
  groupMembers: string[];
  /** null: a VF in a group several guests want */
  domain: string | null;
}

export interface SriovJson {
  pf: string;
  numVfs: number;
  currentVfs: number;
  totalVfs: number;
  firstVfOffset: number;
  vfStride: number;
  vfDevice: string;
  busLimit: number;
  vfs: SriovVfJson[];
}

export interface AliasRequestJson {
  guest: string;
  device: string;
  line: number;
  reason: string | null;
  decision: "refused";
  reasons: { code: string; text: string }[];
  requesterIds: { text: string; rid: string; line: number; reasons: { code: string; text: string; detail: Record<string, unknown> }[] }[];
}

export interface CheckJson {
  schema: "iommu-atlas/check@1";
  plan: string;
  source: SourceJson;
  kernel: { version: string; from: "option" | "source" | "default" };
  cmdline: string;
  iommu: string;
  verdict: "safe" | "unsafe";
  counts: { errors: number; warnings: number; info: number; refused: number };
  guests: { name: string; functions: AssignedJson[] }[];
  host: AssignedJson[];
  findings: FindingJson[];
  sriov: SriovJson[];
  aliasRequests: AliasRequestJson[];
  /** only for a safe plan */
  actions: Actions | null;
  warnings: string[];
}

export interface PlanErrorsJson {
  schema: "iommu-atlas/check@1";
  plan: string;
  verdict: "bad-input";
  errors: { line: number; path: string; message: string; text: string }[];
}

const hexBig = (v: bigint): string => `0x${v.toString(16)}`;

function detailOf(f: Finding): Record<string, unknown> {
  switch (f.code) {
    case "group-split":
      return { ...f, members: f.members.map((m) => ({ ...m, steps: m.steps.map((s): StepJson => stepToJson(s, m.bdf)) })) };
    case "rmrr":
      return { ...f, regions: f.regions.map((r) => ({ base: hexBig(r.base), limit: hexBig(r.limit) })) };
    case "alias-conflict":
      return { ...f, rids: f.rids.map(formatRid) };
    default:
      return { ...f };
  }
}

export function findingToJson(f: Finding): FindingJson {
  return { code: f.code, severity: findingSeverity(f), text: findingText(f), details: findingDetails(f), detail: detailOf(f) };
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** `snapshot` and `label` name the source as loaded (before the plan's VFs) */
export function checkToJson(r: CheckResult, snapshot: Snapshot, label: string): CheckJson {
  const p = r.prediction;
  const fnJson = (bdf: string): AssignedJson => {
    const f = p.topology.functions.get(bdf)!;
    const entry = r.resolution.placement.get(bdf)!.entry;
    return {
      bdf,
      vendor: hex4(f.vendor),
      device: hex4(f.device),
      className: className(f.classCode),
      driverNow: f.driver ?? null,
      driver: r.resolution.wanted.get(bdf) ?? null,
      group: p.groups.groupOf.get(bdf) ?? null,
      selectedBy: { path: entry.path, line: entry.line, text: entry.text },
    };
  };
  const guests = r.plan.guests.map((g) => ({
    name: g.name,
    functions: [...r.resolution.guestOf]
      .filter(([, name]) => name === g.name)
      .map(([bdf]) => bdf)
      .sort()
      .map(fnJson),
  }));
  const findings = r.findings.map(findingToJson).sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const membersOf = (bdf: string): string[] => {
    const id = p.groups.groupOf.get(bdf);
    return id === undefined ? [] : [...(p.groups.groups.find((g) => g.id === id)?.members ?? [])].sort();
  };
  return {
    schema: "iommu-atlas/check@1",
    plan: r.plan.file,
    source: sourceToJson(snapshot, label),
    kernel: { version: formatKernel(p.kernel), from: p.kernelFrom },
    cmdline: p.params.raw,
    iommu: p.layout.kind,
    verdict: r.verdict,
    counts: { ...r.counts },
    guests,
    host: [...r.resolution.hostListed].sort().map(fnJson),
    findings,
    sriov: r.sriov.map((s) => ({
      pf: s.pf,
      numVfs: s.request.numVfs,
      currentVfs: s.currentVfs,
      totalVfs: s.totalVfs,
      firstVfOffset: s.firstVfOffset,
      vfStride: s.vfStride,
      vfDevice: hex4(s.vfDevice),
      busLimit: s.busLimit,
      vfs: s.vfs.map((v) => ({
        index: v.index,
        bdf: v.bdf,
        rid: v.rid === undefined ? null : formatRid(v.rid),
        virtualBus: v.virtualBus,
        group: p.groups.groupOf.get(v.bdf) ?? null,
        groupMembers: membersOf(v.bdf),
        domain: r.domainOf(v.bdf) ?? null,
      })),
    })),
    aliasRequests: r.aliasRequests.map((a) => ({
      guest: a.request.guest,
      device: a.request.device,
      line: a.request.line,
      reason: a.request.reason ?? null,
      decision: a.decision,
      reasons: a.reasons.map((x) => ({ code: x.code, text: requestReasonText(x, a.request.device, a.request.guest) })),
      requesterIds: a.rids.map((x) => ({
        text: x.text,
        rid: formatRid(x.rid),
        line: x.line,
        reasons: x.reasons.map((y) => ({ code: y.code, text: refusalText(y, formatRid(x.rid)), detail: { ...y } })),
      })),
    })),
    actions: r.actions ?? null,
    warnings: [...p.warnings],
  };
}

export function planErrorsToJson(file: string, problems: readonly PlanProblem[]): PlanErrorsJson {
  return {
    schema: "iommu-atlas/check@1",
    plan: file,
    verdict: "bad-input",
    errors: problems.map((p) => ({ line: p.line, path: p.path, message: p.message, text: formatPlanProblem(file, p) })),
  };
}
