import { predict } from "../../core/iommu/predict.js";
import { unitsToJson } from "../../core/program/units-json.js";
import { loadSource } from "../load.js";
import { predictOptions } from "../options.js";
import type { PredictFlags } from "../options.js";
import type { Output } from "../output.js";
import { outJson } from "../output.js";
import { style } from "../render/text.js";
import { renderUnits } from "../render/units.js";

export interface UnitsOptions extends PredictFlags {
  source?: string | undefined;
  json?: boolean | undefined;
}

/** `units`: the IOMMU units of the DMAR / IVRS table, what each covers, and what none covers */
export async function units(opts: UnitsOptions, io: Output): Promise<number> {
  const { snapshot, label } = await loadSource(opts.source);
  const p = predict(snapshot, predictOptions(opts));
  const data = unitsToJson(snapshot, label, p);
  if (opts.json) await outJson(io, data);
  else io.out(renderUnits(data, style(io.color)).join("\n"));
  return 0;
}
