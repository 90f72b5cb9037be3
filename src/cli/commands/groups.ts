import { groupsToJson } from "../../core/json/groups.js";
import { predict } from "../../core/iommu/predict.js";
import { loadSource } from "../load.js";
import { loadPciIds } from "../pci-ids.js";
import { predictOptions } from "../options.js";
import type { PredictFlags } from "../options.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { renderGroups } from "../render/groups.js";
import { style } from "../render/text.js";

export interface GroupsOptions extends PredictFlags {
  source?: string | undefined;
  json?: boolean | undefined;
  verbose?: boolean | undefined;
}

/** `groups`: the IOMMU groups Linux forms, with the reason for each member */
export async function groups(opts: GroupsOptions, io: Output): Promise<number> {
  const { snapshot, label } = await loadSource(opts.source);
  const p = predict(snapshot, predictOptions(opts));
  const data = groupsToJson(snapshot, label, p, await loadPciIds());
  io.out(opts.json ? toJson(data) : renderGroups(data, style(io.color), opts.verbose ?? false).join("\n"));
  return 0;
}
