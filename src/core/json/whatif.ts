/**
 * `whatif --json` (schema iommu-atlas/whatif@1): groups before and after a
 * change of kernel parameters, kernel version or ACS bits. The CLI and the
 * web page both call this, so the page shows exactly what the command says.
 */
import type { PredictOptions } from "../iommu/predict.js";
import { whatIf, whatIfSides } from "../iommu/whatif.js";
import type { GroupChange, WhatIf } from "../iommu/whatif.js";
import { formatKernel } from "../kernel/version.js";
import type { Snapshot } from "../sources/snapshot.js";
import { groupsToJson } from "./groups.js";
import type { GroupsJson } from "./groups.js";

export interface WhatIfJson {
  schema: "iommu-atlas/whatif@1";
  change: { cmdline: string | null; kernel: string | null; acs: string[] };
  acsMode: "boot" | "captured";
  before: GroupsJson;
  after: GroupsJson;
  changes: WhatIf["changes"];
  isolationLost: WhatIf["isolationLost"];
}

/**
 * `after` is the changed prediction; `acsText` the ACS edits as the user
 * wrote them; `boot` models ACS from boot on both sides. Changed ACS
 * parameters cannot be applied to captured control values, so they switch
 * both sides to the boot model too.
 */
export function whatIfToJson(snapshot: Snapshot, label: string, after: PredictOptions, acsText: readonly string[], boot = false): { json: WhatIfJson; result: WhatIf } {
  const sides = whatIfSides(snapshot, after, boot);
  const result = whatIf(snapshot, sides.before, sides.after);
  return {
    result,
    json: {
      schema: "iommu-atlas/whatif@1",
      change: { cmdline: after.cmdline ?? null, kernel: after.kernel ? formatKernel(after.kernel) : null, acs: [...acsText] },
      acsMode: sides.boot ? "boot" : "captured",
      before: groupsToJson(snapshot, label, result.before),
      after: groupsToJson(snapshot, label, result.after),
      changes: result.changes,
      isolationLost: result.isolationLost,
    },
  };
}

/** one line per change: `split: {a, b} → {a} {b}` */
export function formatGroupChange(c: GroupChange): string {
  return c.kind === "split"
    ? `split: {${c.before.join(", ")}} → ${c.after.map((g) => `{${g.join(", ")}}`).join(" ")}`
    : `merged: ${c.before.map((g) => `{${g.join(", ")}}`).join(" + ")} → {${c.after.join(", ")}}`;
}

export function formatIsolationLost(x: { readonly bdf: string; readonly reachable: readonly string[] }): string {
  return `isolation lost: ${x.bdf} is split off only by the override; ${x.reachable.join(", ")} can still reach it peer to peer without passing the IOMMU`;
}
