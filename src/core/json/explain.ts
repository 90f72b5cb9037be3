/**
 * `explain --json` (schema iommu-atlas/explain@1): why one function is in
 * its group, its requester IDs, and what would split it. The CLI prints it;
 * the web page's function panel renders it.
 */
import { dmaAliases } from "../iommu/dma-alias.js";
import type { DmaAlias } from "../iommu/dma-alias.js";
import type { PredictOptions, Prediction } from "../iommu/predict.js";
import { noSplitReason, splitOptions } from "../iommu/whatif.js";
import { formatAlias, formatNoSplit } from "../messages.js";
import { className, functionKindName, hex4 } from "../names.js";
import type { Snapshot } from "../sources/snapshot.js";
import { stepToJson } from "./groups.js";
import type { StepJson } from "./groups.js";

export interface ExplainJson {
  schema: "iommu-atlas/explain@1";
  bdf: string;
  vendor: string;
  device: string;
  className: string;
  kind: string;
  group: number | null;
  members: string[];
  steps: StepJson[];
  aliases: (DmaAlias & { text: string })[];
  splits: { change: string; groupAfter: string[]; stillReachable: string[] }[];
  noSplit: string | null;
  dependsOnUnknownAcs: string[];
}

/** undefined: the prediction has no function `bdf`; `base` are the options `p` was made with */
export function explainToJson(snapshot: Snapshot, p: Prediction, bdf: string, base: PredictOptions): ExplainJson | undefined {
  const fn = p.topology.functions.get(bdf);
  if (!fn) return undefined;
  const gid = p.groups.groupOf.get(bdf);
  const members = gid === undefined ? [] : p.groups.groups.find((g) => g.id === gid)!.members;
  const splits = gid === undefined ? [] : splitOptions(snapshot, p, bdf, base);
  return {
    schema: "iommu-atlas/explain@1",
    bdf,
    vendor: hex4(fn.vendor),
    device: hex4(fn.device),
    className: className(fn.classCode),
    kind: functionKindName(fn),
    group: gid ?? null,
    members: [...members].sort(),
    steps: (p.groups.steps.get(bdf) ?? []).map((s) => stepToJson(s, bdf, p)),
    aliases: dmaAliases(p.topology, p.props, fn).map((a) => ({ ...a, text: formatAlias(a) })),
    splits: splits.map((s) => ({ change: s.change, groupAfter: [...s.groupAfter].sort(), stillReachable: [...s.stillReachable] })),
    noSplit: members.length > 1 && splits.length === 0 ? formatNoSplit(noSplitReason(members.map((m) => p.groups.steps.get(m) ?? []))) : null,
    dependsOnUnknownAcs: [...(p.groups.dependsOnUnknown.get(bdf) ?? [])],
  };
}
