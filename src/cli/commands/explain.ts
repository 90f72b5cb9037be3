import { predict } from "../../core/iommu/predict.js";
import { explainToJson } from "../../core/json/explain.js";
import { formatSplitCaveat, formatUnknownAcsDependency } from "../../core/messages.js";
import { normalizeBdf } from "../../core/topology/address.js";
import { InputError, UsageError } from "../errors.js";
import { loadSource } from "../load.js";
import { predictOptions } from "../options.js";
import type { PredictFlags } from "../options.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { style } from "../render/text.js";

export interface ExplainOptions extends PredictFlags {
  bdf: string;
  source?: string | undefined;
  json?: boolean | undefined;
}

/** `explain BDF`: why this function is where it is, and what would split it */
export async function explain(opts: ExplainOptions, io: Output): Promise<number> {
  const bdf = normalizeBdf(opts.bdf);
  if (!bdf) throw new UsageError(`'${opts.bdf}' is not a PCI address; expected [dddd:]bb:dd.f, e.g. 0000:01:00.0`);
  const { snapshot, label } = await loadSource(opts.source);
  const base = predictOptions(opts);
  const p = predict(snapshot, base);
  const data = explainToJson(snapshot, p, bdf, base);
  if (!data) throw new InputError(`${label}: has no function ${bdf}; run 'iommu-atlas show' to list them`);
  const gid = data.group ?? undefined;
  const members = data.members;
  const steps = data.steps;
  if (opts.json) {
    io.out(toJson(data));
    return 0;
  }
  const s = style(io.color);
  const lines = [`${s.bold(bdf)}  [${data.vendor}:${data.device}]  ${data.className}  ${s.dim(data.kind)}`];
  lines.push(gid === undefined ? "no IOMMU group" : `group ${gid}: ${data.members.join(", ")}`);
  lines.push("why:");
  steps.forEach((st, i) => lines.push(`  ${i + 1}. ${st.text}`, s.dim(`     see ${st.cite}`)));
  lines.push(`DMA requester IDs: ${data.aliases.map((a) => a.text).join(", ")}`);
  if (data.dependsOnUnknownAcs.length) lines.push(s.yellow(formatUnknownAcsDependency(data.dependsOnUnknownAcs)));
  if (members.length > 1) {
    lines.push("what would split it:");
    for (const sp of data.splits) {
      lines.push(`  ${sp.change} → its group becomes {${sp.groupAfter.join(", ")}}`);
      lines.push(s.yellow(`    ${formatSplitCaveat(sp.stillReachable)}`));
    }
    if (data.noSplit) lines.push(`  nothing: ${data.noSplit}`);
  }
  io.out(lines.join("\n"));
  return 0;
}
