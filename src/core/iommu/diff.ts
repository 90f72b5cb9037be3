import type { GroupPrediction } from "./groups.js";

/** one way the prediction and the kernel disagree */
export type GroupDifference =
  | { readonly kind: "membership"; readonly kernelGroup: number; readonly kernelMembers: readonly string[]; readonly predicted: readonly { id: number; members: readonly string[] }[] }
  | { readonly kind: "number"; readonly members: readonly string[]; readonly kernelGroup: number; readonly predictedGroup: number }
  | { readonly kind: "kernel-only"; readonly bdf: string; readonly kernelGroup: number }
  | { readonly kind: "predicted-only"; readonly bdf: string; readonly predictedGroup: number };

export interface GroupDiff {
  readonly membershipEqual: boolean;
  readonly numbersEqual: boolean;
  readonly differences: readonly GroupDifference[];
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

/** compares predicted groups with the kernel's recorded ones, membership first, then numbers */
export function diffGroups(pred: GroupPrediction, kernel: ReadonlyMap<number, readonly string[]>): GroupDiff {
  const differences: GroupDifference[] = [];
  const kernelOf = new Map<string, number>();
  for (const [id, members] of kernel) for (const m of members) kernelOf.set(m, id);
  const predMembers = new Map(pred.groups.map((g) => [g.id, g.members]));
  let membershipEqual = true;
  let numbersEqual = true;
  const matchedPred = new Set<number>();
  for (const [id, members] of kernel) {
    const ids = [...new Set(members.map((m) => pred.groupOf.get(m)).filter((g): g is number => g !== undefined))];
    if (ids.length === 1 && sameSet(predMembers.get(ids[0]!) ?? [], members)) {
      matchedPred.add(ids[0]!);
      if (ids[0] !== id) {
        numbersEqual = false;
        differences.push({ kind: "number", members, kernelGroup: id, predictedGroup: ids[0]! });
      }
      continue;
    }
    membershipEqual = false;
    for (const g of ids) matchedPred.add(g);
    differences.push({
      kind: "membership",
      kernelGroup: id,
      kernelMembers: members,
      predicted: ids.map((g) => ({ id: g, members: predMembers.get(g) ?? [] })),
    });
    for (const m of members) {
      if (!pred.groupOf.has(m)) differences.push({ kind: "kernel-only", bdf: m, kernelGroup: id });
    }
  }
  for (const g of pred.groups) {
    if (matchedPred.has(g.id)) continue;
    for (const m of g.members) {
      if (!kernelOf.has(m)) {
        membershipEqual = false;
        differences.push({ kind: "predicted-only", bdf: m, predictedGroup: g.id });
      }
    }
  }
  return { membershipEqual, numbersEqual: membershipEqual && numbersEqual, differences };
}
