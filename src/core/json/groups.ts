import type { GroupDiff } from "../iommu/diff.js";
import { aliasCauses, citeStep } from "../iommu/cite.js";
import type { GroupStep } from "../iommu/groups.js";
import type { Prediction } from "../iommu/predict.js";
import { formatKernel } from "../kernel/version.js";
import { formatStep } from "../messages.js";
import { className, functionKindName, hex4 } from "../names.js";
import { lspciName } from "../pci-ids/names.js";
import type { PciNames } from "../pci-ids/names.js";
import type { Snapshot } from "../sources/snapshot.js";
import { sourceToJson } from "./topology.js";
import type { SourceJson } from "./topology.js";

export interface StepJson {
  bdf: string;
  code: GroupStep["code"];
  text: string;
  cite: string;
  detail: GroupStep;
}

export interface MemberJson {
  bdf: string;
  vendor: string;
  device: string;
  className: string;
  /** `Vendor Device` from pci.ids as lspci prints it; null without a database */
  name: string | null;
  kind: string;
  driver: string | null;
  kernelGroup: number | null;
  steps: StepJson[];
  /** functions whose ACS was unknown (short dump) and taken as absent on the way */
  dependsOnUnknownAcs: string[];
}

export interface GroupJson {
  id: number;
  members: MemberJson[];
}

export interface GroupsJson {
  schema: "iommu-atlas/groups@1";
  source: SourceJson;
  kernel: { version: string; from: Prediction["kernelFrom"] };
  cmdline: string;
  acsMode: Prediction["acsMode"];
  iommu: { kind: string; units: { name: string; functions: number }[] };
  groups: GroupJson[];
  ungrouped: { bdf: string; reason: string; text: string }[];
  warnings: string[];
}

/** `p`, when given, lets a step's citation name the quirk that made two functions aliases */
export function stepToJson(step: GroupStep, bdf: string, p?: Prediction): StepJson {
  return { bdf, code: step.code, text: formatStep(step), cite: citeStep(step, p && aliasCauses(p.topology, p.props)), detail: step };
}

export function memberToJson(p: Prediction, bdf: string, names?: PciNames): MemberJson {
  const f = p.topology.functions.get(bdf)!;
  return {
    bdf,
    vendor: hex4(f.vendor),
    device: hex4(f.device),
    className: names?.className(f.classCode) ?? className(f.classCode),
    name: names ? lspciName(names, f.vendor, f.device) : null,
    kind: functionKindName(f),
    driver: f.driver ?? null,
    kernelGroup: f.kernelGroup ?? null,
    steps: (p.groups.steps.get(bdf) ?? []).map((s) => stepToJson(s, bdf, p)),
    dependsOnUnknownAcs: [...(p.groups.dependsOnUnknown.get(bdf) ?? [])],
  };
}

/** `groups --json` */
export function groupsToJson(snapshot: Snapshot, label: string, p: Prediction, names?: PciNames): GroupsJson {
  return {
    schema: "iommu-atlas/groups@1",
    source: sourceToJson(snapshot, label),
    kernel: { version: formatKernel(p.kernel), from: p.kernelFrom },
    cmdline: p.params.raw,
    acsMode: p.acsMode,
    iommu: { kind: p.layout.kind, units: p.layout.units.map((u) => ({ name: u.name, functions: u.functions.length })) },
    groups: p.groups.groups.map((g) => ({ id: g.id, members: [...g.members].sort().map((b) => memberToJson(p, b, names)) })),
    ungrouped: [...p.layout.ungrouped].map(([bdf, reason]) => ({
      bdf,
      reason,
      text: formatStep({ code: "no-iommu", at: bdf, reason, refusal: p.arm64?.refusals.get(bdf) }),
    })),
    warnings: [...p.warnings],
  };
}

export interface DiffJson {
  schema: "iommu-atlas/diff@1";
  source: SourceJson;
  identical: boolean;
  membershipEqual: boolean;
  numbersEqual: boolean;
  /** arm64 from lspci text, or without the module load order: numbers rest on an assumed order, so only membership decides `identical` */
  numbersAssumed: boolean;
  differences: GroupDiff["differences"];
  explanations: Record<string, StepJson[]>;
}

export function diffToJson(snapshot: Snapshot, label: string, p: Prediction, d: GroupDiff): DiffJson {
  const explanations: Record<string, StepJson[]> = {};
  for (const diff of d.differences) {
    const bdfs = diff.kind === "membership" ? diff.kernelMembers : diff.kind === "number" ? diff.members : [diff.bdf];
    for (const b of bdfs) explanations[b] = (p.groups.steps.get(b) ?? []).map((s) => stepToJson(s, b, p));
  }
  return {
    schema: "iommu-atlas/diff@1",
    source: sourceToJson(snapshot, label),
    identical: d.membershipEqual && (d.numbersEqual || (p.arm64?.numbersAssumed ?? false)),
    membershipEqual: d.membershipEqual,
    numbersEqual: d.numbersEqual,
    numbersAssumed: p.arm64?.numbersAssumed ?? false,
    differences: d.differences,
    explanations,
  };
}
