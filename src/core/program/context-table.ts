/**
 * `context-table --json` (schema iommu-atlas/context-table@1): the entries
 * Linux programs for a set of assignments (function → domain name), with the
 * alias that caused each, the conflicts, and warnings about assignments
 * Linux itself would not make (a group split across domains).
 */
import type { IommuKind } from "../iommu/units.js";
import type { DmaAlias } from "../iommu/dma-alias.js";
import type { Prediction } from "../iommu/predict.js";
import { sourceToJson } from "../json/topology.js";
import type { SourceJson } from "../json/topology.js";
import { formatKernel } from "../kernel/version.js";
import type { Snapshot } from "../sources/snapshot.js";
import { formatRid } from "../topology/address.js";
import type { DomainKind } from "./domain.js";
import { machineFromPrediction } from "./machine.js";
import type { EntryAction, IommuMachine, ProgramIssue, ProgrammedEntry } from "./machine.js";
import { formatCause, formatContextTableIssue, formatPolicy, formatProgramIssue, pgttName, ttName } from "./messages.js";
import type { AddressWidth } from "./page-table.js";
import type { AliasPolicy, EntryCause } from "./targets.js";
import type { VtdMode } from "./vtd.js";

/** one `--assign BDF=DOMAIN` */
export interface Assignment {
  readonly bdf: string;
  readonly domain: string;
}

/** domain names that mean pass-through (iommu=pt, the identity domain) */
export const IDENTITY_DOMAIN_NAMES: readonly string[] = ["identity", "pt", "passthrough"];
/** the domain name that means Linux's blocking domain (entries cleared) */
export const BLOCKED_DOMAIN_NAME = "blocked";

export function domainKindOf(name: string): DomainKind {
  if (IDENTITY_DOMAIN_NAMES.includes(name.toLowerCase())) return "identity";
  return name.toLowerCase() === BLOCKED_DOMAIN_NAME ? "blocked" : "paging";
}

export interface ContextTableOptions {
  readonly mode?: VtdMode | undefined;
  readonly addressWidth?: AddressWidth | undefined;
}

/** issues of the assignment set as a whole: Linux attaches a whole IOMMU group to one domain */
export type ContextTableIssue =
  | {
      /** the group's functions are given different domains */
      readonly code: "group-split";
      readonly group: number;
      /** every member and its domain (null: not assigned) */
      readonly members: readonly { readonly bdf: string; readonly domain: string | null }[];
    }
  | {
      /** some of the group's functions are not assigned; Linux attaches them too */
      readonly code: "group-partial";
      readonly group: number;
      readonly domain: string;
      readonly unassigned: readonly string[];
    };

export interface CauseJson {
  cause: EntryCause["cause"];
  /** the requester ID, `bb:dd.f` */
  rid: string;
  text: string;
  via?: string;
  rule?: string;
  source?: string;
  /** IVRS: the requester ID whose alias_table entry names this one */
  devid?: string;
}

interface EntryJsonBase {
  unit: string;
  /** requester ID (AMD DeviceID) as `bb:dd.f` */
  rid: string;
  /** the function whose attach wrote the entry */
  device: string;
  /** functions attached through this entry */
  users: string[];
  causes: CauseJson[];
}

export type EntryJson =
  | (EntryJsonBase & {
      kind: "vtd-context";
      bus: number;
      devfn: number;
      did: number;
      tt: number;
      translationType: string;
      aw: number;
      addressWidth: number;
      domain: string;
    })
  | (EntryJsonBase & {
      kind: "vtd-sm-context";
      bus: number;
      devfn: number;
      /** root entry half: LP (devfn 0–127) or UP (128–255) */
      half: "lower" | "upper";
      /** the function whose PASID table the entry points at */
      pasidTableOf: string;
      ridPasid: 0;
      pasidEntry: { did: number; pgtt: number; pgttName: string; aw: number; addressWidth: number; domain: string } | null;
    })
  | (EntryJsonBase & {
      kind: "amd-dte";
      segment: number;
      v: true;
      tv: true;
      domainId: number;
      mode: number;
      ir: boolean;
      iw: boolean;
      domain: string | null;
      clonedFrom: string | null;
    })
  | (EntryJsonBase & { kind: "smmu-ste"; sid: number; config: number; domain: string | null });

export interface IssueJson {
  code: string;
  severity: "error" | "warning" | "info";
  message: string;
  detail: ProgramIssue | ContextTableIssue;
}

export interface ContextTableJson {
  schema: "iommu-atlas/context-table@1";
  source: SourceJson;
  kernel: { version: string; from: Prediction["kernelFrom"] };
  /** where the units come from; "assumed" when the source has no DMAR / IVRS */
  iommu: IommuKind;
  arch: "vtd" | "amd" | "smmu";
  /** VT-d translation table mode; null for AMD */
  mode: VtdMode | null;
  policy: AliasPolicy;
  policyText: string;
  addressWidth: number;
  assignments: {
    bdf: string;
    domain: string;
    unit: string | null;
    entries: { rid: string; action: EntryAction; causes: CauseJson[] }[];
    /** DMA aliases that get no entry under this policy */
    skipped: CauseJson[];
  }[];
  domains: { name: string; kind: DomainKind; ids: { unit: string; id: number }[] }[];
  /** present VT-d root entries */
  roots: { unit: string; bus: number; lower: boolean; upper: boolean }[];
  entries: EntryJson[];
  conflicts: IssueJson[];
  issues: IssueJson[];
  warnings: string[];
}

export function causeToJson(c: EntryCause): CauseJson {
  const base: CauseJson = { cause: c.cause, rid: formatRid(c.rid), text: formatCause(c) };
  switch (c.cause) {
    case "bridge":
      return { ...base, via: c.via, rule: c.rule };
    case "quirk":
      return { ...base, source: c.source };
    case "ivrs":
      return { ...base, devid: formatRid(c.devid) };
    default:
      return base;
  }
}

const awBits = (aw: number): number => 30 + 9 * aw;

export function entryToJson(e: ProgrammedEntry): EntryJson {
  const base: EntryJsonBase = { unit: e.unit, rid: formatRid(e.rid), device: e.writer, users: [...e.users], causes: e.causes.map(causeToJson) };
  switch (e.kind) {
    case "vtd-context":
      return { ...base, kind: e.kind, bus: e.bus, devfn: e.devfn, did: e.did, tt: e.tt, translationType: ttName(e.tt), aw: e.aw, addressWidth: awBits(e.aw), domain: e.domain };
    case "vtd-sm-context":
      return {
        ...base,
        kind: e.kind,
        bus: e.bus,
        devfn: e.devfn,
        half: e.half,
        pasidTableOf: e.pasidTableOf,
        ridPasid: 0,
        pasidEntry: e.pasid ? { did: e.pasid.did, pgtt: e.pasid.pgtt, pgttName: pgttName(e.pasid.pgtt), aw: e.pasid.aw, addressWidth: awBits(e.pasid.aw), domain: e.pasid.domain } : null,
      };
    case "amd-dte":
      return { ...base, kind: e.kind, segment: e.segment, v: true, tv: true, domainId: e.domainId, mode: e.mode, ir: e.ir, iw: e.iw, domain: e.domain ?? null, clonedFrom: e.clonedFrom ?? null };
    case "smmu-ste":
      return { ...base, kind: e.kind, sid: e.sid, config: e.config, domain: e.domain ?? null };
  }
}

const PROGRAM_SEVERITY: Record<ProgramIssue["code"], "error" | "warning"> = {
  "rid-conflict": "error",
  "no-iommu": "error",
  "unknown-function": "error",
  "entry-cleared-in-use": "warning",
  "no-stream-id": "warning",
};

/** one issue per IOMMU group the assignments split across domains or cover only in part */
function groupIssues(p: Prediction, assignments: readonly Assignment[]): ContextTableIssue[] {
  const domainOf = new Map(assignments.map((a) => [a.bdf, a.domain]));
  const seen = new Set<number>();
  const out: ContextTableIssue[] = [];
  for (const a of assignments) {
    const gid = p.groups.groupOf.get(a.bdf);
    if (gid === undefined || seen.has(gid)) continue;
    seen.add(gid);
    const members = [...(p.groups.groups.find((g) => g.id === gid)?.members ?? [])].sort().map((bdf) => ({ bdf, domain: domainOf.get(bdf) ?? null }));
    const domains = new Set(members.flatMap((m) => (m.domain === null ? [] : [m.domain])));
    const unassigned = members.filter((m) => m.domain === null).map((m) => m.bdf);
    if (domains.size > 1) out.push({ code: "group-split", group: gid, members });
    else if (unassigned.length > 0) out.push({ code: "group-partial", group: gid, domain: a.domain, unassigned });
  }
  return out;
}

/** runs the assignments on a fresh machine; the machine is returned for callers that go on (the simulator, tests) */
export function programAssignments(p: Prediction, assignments: readonly Assignment[], opts: ContextTableOptions = {}) {
  const machine: IommuMachine = machineFromPrediction(p, { mode: opts.mode, addressWidth: opts.addressWidth });
  for (const a of assignments) if (!machine.domain(a.domain)) machine.createDomain(a.domain, { kind: domainKindOf(a.domain) });
  const reports = assignments.map((a) => machine.attach(a.bdf, machine.domain(a.domain)!));
  return { machine, reports };
}

/** `context-table --json` */
export function contextTableToJson(
  snapshot: Snapshot,
  label: string,
  p: Prediction,
  assignments: readonly Assignment[],
  opts: ContextTableOptions = {},
): ContextTableJson {
  const { machine, reports } = programAssignments(p, assignments, opts);
  const skippedJson = (s: readonly DmaAlias[]): CauseJson[] => s.map(causeToJson);
  const programIssues = reports.flatMap((r) => r.issues);
  const toIssue = (i: ProgramIssue): IssueJson => ({ code: i.code, severity: PROGRAM_SEVERITY[i.code], message: formatProgramIssue(i), detail: i });
  const warnings = p.warnings.filter((w) => w.startsWith("no DMAR"));
  if (opts.mode !== undefined && machine.arch !== "vtd") warnings.push(`mode '${opts.mode}' applies to Intel VT-d only; this is an AMD-Vi machine`);
  return {
    schema: "iommu-atlas/context-table@1",
    source: sourceToJson(snapshot, label),
    kernel: { version: formatKernel(p.kernel), from: p.kernelFrom },
    iommu: p.layout.kind,
    arch: machine.arch,
    mode: machine.arch === "vtd" ? machine.mode : null,
    policy: machine.policy,
    policyText: formatPolicy(machine.policy, machine.mode),
    addressWidth: machine.addressWidth,
    assignments: reports.map((r) => ({
      bdf: r.bdf,
      domain: r.domain,
      unit: r.unit ?? null,
      entries: r.entries.map((e) => ({ rid: formatRid(e.rid), action: e.action, causes: e.causes.map(causeToJson) })),
      skipped: skippedJson(r.skipped),
    })),
    domains: machine.domains.map((d) => ({ name: d.name, kind: d.kind, ids: machine.domainIds(d) })),
    roots: machine.roots(),
    entries: machine.entries().map(entryToJson),
    conflicts: programIssues.filter((i) => i.code === "rid-conflict").map(toIssue),
    issues: [
      ...programIssues.filter((i) => i.code !== "rid-conflict").map(toIssue),
      ...groupIssues(p, assignments).map((i): IssueJson => ({
        code: i.code,
        severity: i.code === "group-split" ? "warning" : "info",
        message: formatContextTableIssue(i),
        detail: i,
      })),
    ],
    warnings,
  };
}
