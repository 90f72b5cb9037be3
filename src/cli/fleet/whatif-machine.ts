/**
 * `fleet whatif` for one stored machine: its snapshot is built once, then
 * every distinct boot of the hosts on it is predicted under the change.
 * Runs in the main thread or in a worker (whatif-worker.ts).
 */
import { parsePartition, partitionText } from "../../core/fleet/facts.js";
import { predict } from "../../core/iommu/predict.js";
import type { Prediction, PredictOptions } from "../../core/iommu/predict.js";
import { compareGroups, whatIfSides } from "../../core/iommu/whatif.js";
import type { GroupChange, GroupPartition } from "../../core/iommu/whatif.js";
import { snapshotFromSysfs } from "../../core/sources/from-sysfs.js";
import type { Snapshot } from "../../core/sources/snapshot.js";
import { decodeMachineTree } from "./machine-tree.js";

/** one way hosts on a machine were booted, with the groups stored for it */
export interface Boot {
  readonly osrelease: string | null;
  readonly cmdline: string | null;
  readonly partition: string;
}

/** null: the groups do not change */
export type BootResult = { readonly acsMode: "captured" | "boot"; readonly groupsBefore: number; readonly groupsAfter: number; readonly changes: GroupChange[] } | null;

export interface MachineTask {
  readonly hash: string;
  readonly tree: Uint8Array;
  readonly boots: readonly Boot[];
}

/** the result for each of `task.boots`, in order; `predictions` counts the predictions made */
export function whatIfMachine(task: MachineTask, options: PredictOptions): { results: BootResult[]; predictions: number } {
  const base = snapshotFromSysfs(decodeMachineTree(task.tree, `stored machine ${task.hash.slice(0, 12)}`));
  const afters = new Map<string, Prediction>();
  let predictions = 0;
  const results = task.boots.map((b): BootResult => {
    const snapshot: Snapshot = { ...base, osrelease: b.osrelease ?? undefined, cmdline: b.cmdline ?? undefined };
    const sides = whatIfSides(snapshot, options);
    // what of the host's own boot the after side still reads
    const key = [sides.boot, options.kernel ? "" : (b.osrelease ?? ""), options.cmdline !== undefined ? "" : (b.cmdline ?? "")].join("\n");
    let after = afters.get(key);
    if (!after) {
      afters.set(key, (after = predict(snapshot, sides.after)));
      predictions++;
    }
    let before: GroupPartition;
    if (sides.boot) {
      const p = predict(snapshot, sides.before);
      predictions++;
      if (partitionText(p) === partitionText(after)) return null;
      before = p.groups;
    } else {
      if (b.partition === partitionText(after)) return null;
      before = parsePartition(b.partition);
    }
    return {
      acsMode: sides.boot ? "boot" : "captured",
      groupsBefore: before.groups.length,
      groupsAfter: after.groups.groups.length,
      changes: compareGroups(before, after.groups),
    };
  });
  return { results, predictions };
}
