import { parseCmdline } from "../kernel/cmdline.js";
import { REQ_ACS_FLAGS } from "../regs/acs.js";
import type { Snapshot } from "../sources/snapshot.js";
import { busKey, slotOf } from "../topology/address.js";
import type { PciFunction } from "../topology/model.js";
import type { GroupPrediction, GroupStep } from "./groups.js";
import { predict } from "./predict.js";
import type { PredictOptions, Prediction } from "./predict.js";

/** how one group of the "before" prediction fares "after" */
export type GroupChange =
  | { readonly kind: "split"; readonly before: readonly string[]; readonly after: readonly (readonly string[])[] }
  | { readonly kind: "merged"; readonly after: readonly string[]; readonly before: readonly (readonly string[])[] };

export interface WhatIf {
  readonly before: Prediction;
  readonly after: Prediction;
  readonly changes: readonly GroupChange[];
  /**
   * functions split off only because an override claims isolation the
   * hardware lacks, with the functions that can still reach them peer to
   * peer without passing the IOMMU
   */
  readonly isolationLost: readonly { readonly bdf: string; readonly reachable: readonly string[] }[];
}

/** the part of a group prediction that says who is with whom */
export type GroupPartition = Pick<GroupPrediction, "groups" | "groupOf">;

function partition(g: GroupPartition): string[][] {
  return g.groups.map((x) => [...x.members].sort());
}

/** compares two group partitions: splits and merges, by membership */
export function compareGroups(before: GroupPartition, after: GroupPartition): GroupChange[] {
  const changes: GroupChange[] = [];
  const afterOf = (b: string) => after.groupOf.get(b);
  const beforeOf = (b: string) => before.groupOf.get(b);
  for (const members of partition(before)) {
    const ids = [...new Set(members.map(afterOf).filter((x): x is number => x !== undefined))];
    if (ids.length > 1) {
      changes.push({ kind: "split", before: members, after: ids.map((id) => members.filter((m) => afterOf(m) === id)) });
    }
  }
  for (const members of partition(after)) {
    const ids = [...new Set(members.map(beforeOf).filter((x): x is number => x !== undefined))];
    if (ids.length > 1) {
      changes.push({ kind: "merged", after: members, before: ids.map((id) => members.filter((m) => beforeOf(m) === id)) });
    }
  }
  return changes;
}

/**
 * The two sides of a what-if that changes `after`'s kernel parameters or
 * version: when the change touches the ACS parameters (disable_acs_redir,
 * config_acs), captured control values cannot stand for the new boot, so
 * both sides model ACS control from the boot (as `boot` asks anyway).
 */
export function whatIfSides(snapshot: Snapshot, after: PredictOptions, boot = false): { before: PredictOptions; after: PredictOptions; boot: boolean } {
  const was = parseCmdline(snapshot.cmdline ?? "");
  const now = after.cmdline !== undefined ? parseCmdline(after.cmdline) : was;
  const acsParamsChanged = now.disableAcsRedir !== was.disableAcsRedir || now.configAcs !== was.configAcs;
  const mode = acsParamsChanged || boot ? ("boot" as const) : undefined;
  return { before: { acsMode: mode }, after: { ...after, acsMode: mode }, boot: mode !== undefined };
}

/** runs the prediction twice and reports what changed */
export function whatIf(snapshot: Snapshot, before: PredictOptions, after: PredictOptions): WhatIf {
  const b = predict(snapshot, before);
  const a = predict(snapshot, after);
  const changes = compareGroups(b.groups, a.groups);
  // an override (pcie_acs_override) splits by assumption, not by hardware ACS
  const overrideNew = a.override !== undefined && b.override === undefined;
  const isolationLost: { bdf: string; reachable: string[] }[] = [];
  if (overrideNew) {
    for (const c of changes) {
      if (c.kind !== "split") continue;
      for (const bdf of c.before) {
        if (b.topology.functions.get(bdf)?.bridgeKind) continue;
        const reachable = peerReach(b, bdf);
        if (reachable.length > 0) isolationLost.push({ bdf, reachable });
      }
    }
  }
  return { before: b, after: a, changes, isolationLost };
}

/** a change a user could make, and what it does to one function's group */
export interface SplitOption {
  readonly change: string;
  readonly options: PredictOptions;
  readonly groupAfter: readonly string[];
  /** the groups with the change applied */
  readonly groupsAfter: GroupPrediction;
  /** functions that could still reach it peer to peer without passing the IOMMU */
  readonly stillReachable: readonly string[];
}

/**
 * Functions whose peer-to-peer traffic toward `bdf` no hardware ACS stops:
 * for a non-isolating port, everything below the non-isolating ports on
 * the same bus; for a multifunction device, its non-isolated siblings.
 */
export function peerReach(p: Prediction, bdf: string): string[] {
  const t = p.topology;
  const fn = t.functions.get(bdf);
  if (!fn) return [];
  const out = new Set<string>();
  // the buses below a bridge: only those the model says it creates (a bad source may claim its own bus), each once
  const walked = new Set<string>();
  const below = (bridge: string): void => {
    const b = t.functions.get(bridge);
    if (b?.secondary === undefined) return;
    const bus = t.buses.get(busKey(b.segment, b.secondary));
    if (!bus || bus.self !== bridge || walked.has(bus.key)) return;
    walked.add(bus.key);
    for (const c of bus.functions) {
      const cf = t.functions.get(c)!;
      if (cf.bridgeKind) below(c);
      else out.add(c);
    }
  };
  // climb to the first bridge that does not isolate; its bus is where peers meet
  let guard = 0;
  for (let cur: PciFunction | undefined = fn; cur && guard < 512; cur = cur.upstream ? t.functions.get(cur.upstream) : undefined, guard++) {
    const up = cur.upstream ? t.functions.get(cur.upstream) : undefined;
    if (!up) break;
    if (!p.acs.enabled(up, REQ_ACS_FLAGS).enabled) {
      const bus = t.buses.get(busKey(up.segment, up.bus));
      for (const sib of bus?.functions ?? []) {
        const sf = t.functions.get(sib)!;
        if (sf.bridgeKind && !p.acs.enabled(sf, REQ_ACS_FLAGS).enabled) below(sib);
      }
      break;
    }
  }
  if (fn.multifunction && !p.acs.enabled(fn, REQ_ACS_FLAGS).enabled) {
    for (const sib of t.buses.get(busKey(fn.segment, fn.bus))?.functions ?? []) {
      const sf = t.functions.get(sib)!;
      if (slotOf(sf.devfn) === slotOf(fn.devfn) && !p.acs.enabled(sf, REQ_ACS_FLAGS).enabled) out.add(sib);
    }
  }
  out.delete(bdf);
  return [...out].sort();
}

/**
 * What would split `bdf` from its group: tries the kernel parameters that
 * can (the out-of-tree ACS override variants) and reports those that make
 * its group smaller.
 */
export function splitOptions(snapshot: Snapshot, base: Prediction, bdf: string, baseOptions: PredictOptions = {}): SplitOption[] {
  const g = base.groups.groupOf.get(bdf);
  if (g === undefined) return [];
  const members = base.groups.groups.find((x) => x.id === g)!.members;
  if (members.length < 2) return [];
  const cmdline = baseOptions.cmdline ?? snapshot.cmdline ?? "";
  const fn = base.topology.functions.get(bdf)!;
  const ids = new Set(members.map((m) => base.topology.functions.get(m)!).map((f) => `id:${f.vendor.toString(16).padStart(4, "0")}:${f.device.toString(16).padStart(4, "0")}`));
  const candidates = ["downstream", "multifunction", "downstream,multifunction", [...ids].join(",")];
  const out: SplitOption[] = [];
  const seen = new Set<string>();
  const reachable = peerReach(base, fn.bdf);
  for (const c of candidates) {
    const change = `pcie_acs_override=${c}`;
    const options: PredictOptions = { ...baseOptions, cmdline: `${cmdline.replace(/\bpcie_acs_override=\S*/g, "")} ${change}`.trim() };
    const p = predict(snapshot, options);
    const ng = p.groups.groupOf.get(fn.bdf);
    const after = ng === undefined ? [] : p.groups.groups.find((x) => x.id === ng)!.members;
    const key = [...after].sort().join(" ");
    if (after.length < members.length && !seen.has(key)) {
      seen.add(key);
      out.push({ change, options, groupAfter: after, groupsAfter: p.groups, stillReachable: reachable });
    }
  }
  return out;
}

/** why no kernel parameter makes a group smaller */
export type NoSplit = { readonly reason: "bridge-alias"; readonly via: string } | { readonly reason: "dma-alias" } | { readonly reason: "no-parameter" };

/** reads why nothing splits a group from its members' explanation steps */
export function noSplitReason(steps: readonly (readonly GroupStep[])[]): NoSplit {
  const all = steps.flat();
  const bridge = all.find((s) => s.code === "alias-bridge-group");
  if (bridge && bridge.code === "alias-bridge-group") return { reason: "bridge-alias", via: bridge.via };
  if (all.some((s) => s.code === "alias-group")) return { reason: "dma-alias" };
  return { reason: "no-parameter" };
}
