import { diffGroups } from "../../core/iommu/diff.js";
import { predict } from "../../core/iommu/predict.js";
import { diffToJson } from "../../core/json/groups.js";
import { InputError } from "../errors.js";
import { loadSource } from "../load.js";
import { predictOptions } from "../options.js";
import type { PredictFlags } from "../options.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { style } from "../render/text.js";

export interface DiffOptions extends PredictFlags {
  source?: string | undefined;
  json?: boolean | undefined;
}

/** `diff`: prediction vs the kernel's recorded groups; exit 0 identical, 1 different */
export async function diff(opts: DiffOptions, io: Output): Promise<number> {
  const { snapshot, label } = await loadSource(opts.source);
  if (!snapshot.kernelGroups) {
    throw new InputError(`${label}: records no IOMMU groups to compare with; capture a host with the IOMMU on, or lspci -vv output with 'IOMMU group:' lines`);
  }
  const p = predict(snapshot, predictOptions(opts));
  const d = diffGroups(p.groups, snapshot.kernelGroups);
  const data = diffToJson(snapshot, label, p, d);
  if (opts.json) {
    io.out(toJson(data));
    return data.identical ? 0 : 1;
  }
  const s = style(io.color);
  const lines: string[] = [];
  if (data.identical && !d.numbersEqual) {
    lines.push(s.green(`identical membership: ${p.groups.groups.length} groups as the kernel decided; numbers rest on an assumed probe order and differ:`));
  } else if (data.identical) lines.push(s.green(`identical: ${p.groups.groups.length} groups, membership and numbers as the kernel decided`));
  else lines.push(s.red(`different: membership ${d.membershipEqual ? "equal" : "differs"}, numbers ${d.numbersEqual ? "equal" : "differ"}`));
  for (const x of d.differences) {
    switch (x.kind) {
      case "membership":
        lines.push(`kernel group ${x.kernelGroup} {${x.kernelMembers.join(", ")}} predicted as ${x.predicted.map((g) => `group ${g.id} {${g.members.join(", ")}}`).join(" and ") || "no group"}`);
        for (const m of x.kernelMembers) for (const st of data.explanations[m] ?? []) lines.push(s.dim(`    ${m}: ${st.text}`));
        break;
      case "number":
        lines.push(`{${x.members.join(", ")}}: kernel numbered it ${x.kernelGroup}, predicted ${x.predictedGroup}`);
        break;
      case "kernel-only":
        lines.push(`${x.bdf}: the kernel put it in group ${x.kernelGroup}, the prediction gives it no group`);
        break;
      case "predicted-only":
        lines.push(`${x.bdf}: predicted in group ${x.predictedGroup}, the kernel gave it no group`);
        break;
    }
  }
  io.out(lines.join("\n"));
  return data.identical ? 0 : 1;
}
