import { formatGroupChange, formatIsolationLost, whatIfToJson } from "../../core/json/whatif.js";
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
  const { json: data, result: r } = whatIfToJson(snapshot, label, predictOptions(opts), opts.acs ?? [], opts.boot === true);
  if (opts.json) {
    io.out(toJson(data));
    return 0;
  }
  const s = style(io.color);
  const lines = [`${r.before.groups.groups.length} groups before, ${r.after.groups.groups.length} after${data.acsMode === "boot" ? s.dim(" (ACS modelled from boot on both sides)") : ""}`];
  if (r.changes.length === 0) lines.push("no group changes");
  for (const c of r.changes) lines.push(formatGroupChange(c));
  for (const x of r.isolationLost) lines.push(s.yellow(formatIsolationLost(x)));
  for (const w of r.after.warnings) lines.push(s.yellow(`warning: ${w}`));
  io.out(lines.join("\n"));
  return 0;
}
