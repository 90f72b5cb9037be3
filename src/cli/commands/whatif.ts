import { whatIf, whatIfSides } from "../../core/iommu/whatif.js";
import { groupsToJson } from "../../core/json/groups.js";
import { formatKernel } from "../../core/kernel/version.js";
import { UsageError } from "../errors.js";
import { loadSource } from "../load.js";
import { predictOptions } from "../options.js";
import type { PredictFlags } from "../options.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { style } from "../render/text.js";

export interface WhatIfOptions extends PredictFlags {
  source?: string | undefined;
  json?: boolean | undefined;
}

/** `whatif`: groups before and after a change of kernel parameters, kernel version or ACS bits */
export async function whatif(opts: WhatIfOptions, io: Output): Promise<number> {
  if (opts.cmdline === undefined && opts.kernel === undefined && !(opts.acs?.length)) {
    throw new UsageError("whatif needs a change: --cmdline '…', --kernel VERSION or --acs BDF=+FLAGS");
  }
  const { snapshot, label } = await loadSource(opts.source);
  const sides = whatIfSides(snapshot, predictOptions(opts), opts.boot ?? false);
  const after = sides.after;
  const mode = sides.boot ? ("boot" as const) : undefined;
  const r = whatIf(snapshot, sides.before, after);
  const data = {
    schema: "iommu-atlas/whatif@1" as const,
    change: { cmdline: after.cmdline ?? null, kernel: after.kernel ? formatKernel(after.kernel) : null, acs: opts.acs ?? [] },
    acsMode: mode ?? "captured",
    before: groupsToJson(snapshot, label, r.before),
    after: groupsToJson(snapshot, label, r.after),
    changes: r.changes,
    isolationLost: r.isolationLost,
  };
  if (opts.json) {
    io.out(toJson(data));
    return 0;
  }
  const s = style(io.color);
  const lines = [`${r.before.groups.groups.length} groups before, ${r.after.groups.groups.length} after${mode ? s.dim(" (ACS modelled from boot on both sides)") : ""}`];
  if (r.changes.length === 0) lines.push("no group changes");
  for (const c of r.changes) {
    if (c.kind === "split") lines.push(`split: {${c.before.join(", ")}} → ${c.after.map((g) => `{${g.join(", ")}}`).join(" ")}`);
    else lines.push(`merged: ${c.before.map((g) => `{${g.join(", ")}}`).join(" + ")} → {${c.after.join(", ")}}`);
  }
  for (const x of r.isolationLost) {
    lines.push(s.yellow(`isolation lost: ${x.bdf} is split off only by the override; ${x.reachable.join(", ")} can still reach it peer to peer without passing the IOMMU`));
  }
  for (const w of r.after.warnings) lines.push(s.yellow(`warning: ${w}`));
  io.out(lines.join("\n"));
  return 0;
}
