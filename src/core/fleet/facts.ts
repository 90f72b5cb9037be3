/**
 * What a fleet stores about one host: its identity (DMI, host name), a
 * summary of the prediction, one row per PCI function (its group and whether
 * it can go to a VM alone) and the risks the core's checks find. Computed
 * here, from a Snapshot and its Prediction, so every store and every
 * question works from the same facts.
 */
import type { GroupStep } from "../iommu/groups.js";
import type { Prediction } from "../iommu/predict.js";
import { whatIf } from "../iommu/whatif.js";
import type { GroupPartition } from "../iommu/whatif.js";
import { formatKernel } from "../kernel/version.js";
import { formatStep } from "../messages.js";
import { aliasConflicts, ridEmitters } from "../plan/conflicts.js";
import { isBridge } from "../plan/resolve.js";
import { rmrrLookup } from "../plan/rmrr.js";
import type { Snapshot } from "../sources/snapshot.js";
import { ntbWarnings } from "../switchtec/ntb-prediction.js";
import { slotOf } from "../topology/address.js";
import type { PciFunction } from "../topology/model.js";
import { aliasConflictText, overrideRiskText, rmrrSharedText, sharesGroupText } from "./messages.js";

export { CMDLINE_PATH, DMI_DIR, DMI_FIELDS, HOSTNAME_PATH, HOST_ONLY_PATHS, OSRELEASE_PATH, hostIdentity } from "./identity.js";
export type { DmiField, HostIdentity } from "./identity.js";

/** the device kinds labels and `fleet boards` report on */
export const DEVICE_KINDS = [
  { name: "gpu", text: "GPU", matches: (classCode: number) => classCode >> 16 === 0x03 },
  { name: "nic", text: "NIC", matches: (classCode: number) => classCode >> 16 === 0x02 },
  { name: "nvme", text: "NVMe", matches: (classCode: number) => classCode === 0x010802 },
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number]["name"];

/**
 * Per device kind: how many devices the host has (a device's functions,
 * such as a GPU's audio function, count once) and how many of them can go
 * to a VM alone (every function of the device alone).
 */
export function deviceKindCounts(functions: readonly FunctionFact[]): Record<DeviceKind, { count: number; alone: number }> {
  const out = {} as Record<DeviceKind, { count: number; alone: number }>;
  for (const k of DEVICE_KINDS) {
    const devices = new Map<string, boolean>();
    for (const x of functions) {
      if (x.bridge || !k.matches(x.classCode)) continue;
      const slot = x.bdf.slice(0, -2);
      devices.set(slot, (devices.get(slot) ?? true) && x.alone);
    }
    out[k.name] = { count: devices.size, alone: [...devices.values()].filter(Boolean).length };
  }
  return out;
}

export interface FunctionFact {
  readonly bdf: string;
  readonly vendor: number;
  readonly device: number;
  readonly classCode: number;
  readonly bridge: boolean;
  /** its IOMMU group; null without one */
  readonly group: number | null;
  /** the group holds nothing but this device's own functions (same slot) and bridges */
  readonly alone: boolean;
  /** when not alone: one line, the explanation step that put the others with it */
  readonly reason: string | null;
}

export type RiskKind = "acs-override" | "ntb-proxy-unknown" | "alias-conflict" | "rmrr-shared-group";

export interface RiskFact {
  readonly kind: RiskKind;
  /** the function it is about; null for the host as a whole */
  readonly bdf: string | null;
  readonly text: string;
}

export interface HostFacts {
  /** the kernel version modelled, `6.1` */
  readonly kernel: string;
  readonly kernelFrom: Prediction["kernelFrom"];
  /** intel, amd, assumed, amd-inferred, or off (iommu=off, intel_iommu=off…) */
  readonly iommu: string;
  readonly groupCount: number;
  /** members of the largest group */
  readonly largestGroup: number;
  /** the pcie_acs_override value in use, null when none */
  readonly acsOverride: string | null;
  readonly functions: readonly FunctionFact[];
  readonly risks: readonly RiskFact[];
  /** the group partition, canonical: members sorted, groups sorted, `|` between groups */
  readonly partition: string;
}

/** the canonical text of a group partition: equal texts, equal groups */
export function partitionText(p: Prediction): string {
  return p.groups.groups
    .map((g) => [...g.members].sort().join(","))
    .sort()
    .join("|");
}

/** partitionText back to groups (numbered in text order) */
export function parsePartition(text: string): GroupPartition {
  const groups = text === "" ? [] : text.split("|").map((g, id) => ({ id, members: g.split(",") }));
  const groupOf = new Map<string, number>();
  for (const g of groups) for (const m of g.members) groupOf.set(m, g.id);
  return { groups, groupOf };
}

const sameSlot = (a: PciFunction, b: PciFunction): boolean => a.segment === b.segment && a.bus === b.bus && slotOf(a.devfn) === slotOf(b.devfn);

/** the step that decided a function's group: its last one */
const decisive = (p: Prediction, bdf: string): GroupStep | undefined => p.groups.steps.get(bdf)?.at(-1);

/** whether `fn` can go to a VM alone, and if not, the one-line reason */
export function aloneOf(p: Prediction, fn: PciFunction): { alone: boolean; group: number | null; reason: string | null } {
  const gid = p.groups.groupOf.get(fn.bdf);
  if (gid === undefined) {
    const step = decisive(p, fn.bdf);
    return { alone: false, group: null, reason: step ? formatStep(step) : "no IOMMU group" };
  }
  const members = p.groups.groups.find((g) => g.id === gid)!.members;
  const others = members
    .map((m) => p.topology.functions.get(m)!)
    .filter((m) => !isBridge(m) && !sameSlot(m, fn))
    .map((m) => m.bdf)
    .sort();
  if (others.length === 0) return { alone: true, group: gid, reason: null };
  // the function joined someone's group: its own step says why; it opened the group: the first other member's step does
  const own = decisive(p, fn.bdf);
  const [bdf, step] = own && own.code !== "new-group" ? [fn.bdf, own] : [others[0]!, decisive(p, others[0]!)];
  return { alone: false, group: gid, reason: sharesGroupText(gid, others, step ? { bdf, text: formatStep(step) } : undefined) };
}

/** the risks of one host, from the core's own checks */
export function hostRisks(snapshot: Snapshot, p: Prediction): RiskFact[] {
  const risks: RiskFact[] = [];
  if (p.override) {
    // what the override splits that hardware ACS does not: the same machine without it
    const without = p.params.raw
      .split(/\s+/)
      .filter((w) => !w.startsWith("pcie_acs_override="))
      .join(" ");
    const w = whatIf(snapshot, { kernel: p.kernel, cmdline: without, acsMode: p.acsMode }, { kernel: p.kernel, cmdline: p.params.raw, acsMode: p.acsMode });
    const lost = w.isolationLost.map((x) => x.bdf);
    risks.push({ kind: "acs-override", bdf: null, text: overrideRiskText(p.params.pcieAcsOverride ?? "", lost) });
  }
  for (const [bdf, n] of p.ntb) {
    if (n.status !== "unknown") continue;
    risks.push({ kind: "ntb-proxy-unknown", bdf, text: ntbWarnings(bdf, n)[0]! });
  }
  // each group its own domain: a requester ID that functions of two groups emit cannot be translated right for both
  const groupDomain = (bdf: string): string | undefined => {
    const g = p.groups.groupOf.get(bdf);
    return g === undefined ? undefined : String(g);
  };
  for (const c of aliasConflicts(ridEmitters(p, groupDomain))) {
    if (c.code !== "alias-conflict") continue;
    risks.push({ kind: "alias-conflict", bdf: c.emitters[0]!.bdf, text: aliasConflictText(c.rids, c.emitters) });
  }
  const rmrrOf = rmrrLookup(p);
  for (const g of p.groups.groups) {
    const endpoints = g.members.map((m) => p.topology.functions.get(m)!).filter((f) => !isBridge(f));
    if (endpoints.length < 2) continue;
    for (const fn of endpoints) {
      // shared: with another device, not just the device's own functions
      const others = endpoints.filter((o) => !sameSlot(o, fn)).map((o) => o.bdf);
      const hit = others.length > 0 ? rmrrOf(fn) : undefined;
      if (!hit) continue;
      risks.push({ kind: "rmrr-shared-group", bdf: fn.bdf, text: rmrrSharedText(fn.bdf, hit.via, g.id, others) });
    }
  }
  return risks;
}

/** every fact a fleet keeps about one host */
export function hostFacts(snapshot: Snapshot, p: Prediction): HostFacts {
  const functions: FunctionFact[] = [];
  for (const bdf of [...p.topology.functions.keys()].sort()) {
    const fn = p.topology.functions.get(bdf)!;
    const a = aloneOf(p, fn);
    functions.push({ bdf, vendor: fn.vendor, device: fn.device, classCode: fn.classCode, bridge: isBridge(fn), ...a });
  }
  return {
    kernel: formatKernel(p.kernel),
    kernelFrom: p.kernelFrom,
    iommu: p.params.iommuOff ? "off" : p.layout.kind,
    groupCount: p.groups.groups.length,
    largestGroup: Math.max(0, ...p.groups.groups.map((g) => g.members.length)),
    acsOverride: p.override ? (p.params.pcieAcsOverride ?? "") : null,
    functions,
    risks: hostRisks(snapshot, p),
    partition: partitionText(p),
  };
}
