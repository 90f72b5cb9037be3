import type { Snapshot } from "../sources/snapshot.js";
import type { GroupPrediction } from "./groups.js";
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
   * groups that split only because an override claims isolation the
   * hardware lacks: devices in them can still reach each other peer to peer
   */
  readonly isolationLost: readonly (readonly string[])[];
}

function partition(g: GroupPrediction): string[][] {
  return g.groups.map((x) => [...x.members].sort());
}

/** compares two group partitions: splits and merges, by membership */
export function compareGroups(before: GroupPrediction, after: GroupPrediction): GroupChange[] {
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

/** runs the prediction twice and reports what changed */
export function whatIf(snapshot: Snapshot, before: PredictOptions, after: PredictOptions): WhatIf {
  const b = predict(snapshot, before);
  const a = predict(snapshot, after);
  const changes = compareGroups(b.groups, a.groups);
  // an override (pcie_acs_override) splits by assumption, not by hardware ACS
  const overrideNew = a.override !== undefined && b.override === undefined;
  const isolationLost = overrideNew ? changes.filter((c) => c.kind === "split").map((c) => (c as { before: readonly string[] }).before) : [];
  return { before: b, after: a, changes, isolationLost };
}

/** a change a user could make, and what it does to one function's group */
export interface SplitOption {
  readonly change: string;
  readonly options: PredictOptions;
  readonly groupAfter: readonly string[];
  readonly overrideOnly: boolean;
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
  for (const c of candidates) {
    const change = `pcie_acs_override=${c}`;
    const options: PredictOptions = { ...baseOptions, cmdline: `${cmdline.replace(/\bpcie_acs_override=\S*/g, "")} ${change}`.trim() };
    const p = predict(snapshot, options);
    const ng = p.groups.groupOf.get(fn.bdf);
    const after = ng === undefined ? [] : p.groups.groups.find((x) => x.id === ng)!.members;
    const key = [...after].sort().join(" ");
    if (after.length < members.length && !seen.has(key)) {
      seen.add(key);
      out.push({ change, options, groupAfter: after, overrideOnly: true });
    }
  }
  return out;
}
