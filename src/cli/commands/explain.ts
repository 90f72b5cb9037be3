import { dmaAliases } from "../../core/iommu/dma-alias.js";
import { predict } from "../../core/iommu/predict.js";
import { noSplitReason, splitOptions } from "../../core/iommu/whatif.js";
import { stepToJson } from "../../core/json/groups.js";
import { formatAlias, formatNoSplit } from "../../core/messages.js";
import { className, functionKindName, hex4 } from "../../core/names.js";
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
  const fn = p.topology.functions.get(bdf);
  if (!fn) throw new InputError(`${label}: has no function ${bdf}; run 'iommu-atlas show' to list them`);
  const gid = p.groups.groupOf.get(bdf);
  const members = gid === undefined ? [] : p.groups.groups.find((g) => g.id === gid)!.members;
  const steps = (p.groups.steps.get(bdf) ?? []).map((s) => stepToJson(s, bdf, p));
  const aliases = dmaAliases(p.topology, p.props, fn);
  const splits = gid === undefined ? [] : splitOptions(snapshot, p, bdf, base);
  const data = {
    schema: "iommu-atlas/explain@1" as const,
    bdf,
    vendor: hex4(fn.vendor),
    device: hex4(fn.device),
    className: className(fn.classCode),
    kind: functionKindName(fn),
    group: gid ?? null,
    members: [...members].sort(),
    steps,
    aliases: aliases.map((a) => ({ ...a, text: formatAlias(a) })),
    splits: splits.map((s) => ({
      change: s.change,
      groupAfter: [...s.groupAfter].sort(),
      stillReachable: [...s.stillReachable],
    })),
    noSplit: members.length > 1 && splits.length === 0 ? formatNoSplit(noSplitReason(members.map((m) => p.groups.steps.get(m) ?? []))) : null,
    dependsOnUnknownAcs: [...(p.groups.dependsOnUnknown.get(bdf) ?? [])],
  };
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
  if (data.dependsOnUnknownAcs.length) lines.push(s.yellow(`depends on unknown ACS of ${data.dependsOnUnknownAcs.join(", ")}: capture as root to be sure`));
  if (members.length > 1) {
    lines.push("what would split it:");
    for (const sp of data.splits) {
      lines.push(`  ${sp.change} → its group becomes {${sp.groupAfter.join(", ")}}`);
      lines.push(
        s.yellow(
          sp.stillReachable.length
            ? `    but it only tells the kernel to assume isolation: ${sp.stillReachable.join(", ")} can still reach it peer to peer without passing the IOMMU`
            : "    but it only tells the kernel to assume isolation the hardware does not enforce",
        ),
      );
    }
    if (data.noSplit) lines.push(`  nothing: ${data.noSplit}`);
  }
  io.out(lines.join("\n"));
  return 0;
}
