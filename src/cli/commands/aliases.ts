import { predict } from "../../core/iommu/predict.js";
import { aliasesToJson, whoisToJson } from "../../core/json/aliases.js";
import { devId, parseBdf } from "../../core/topology/address.js";
import { UsageError } from "../errors.js";
import { loadSource } from "../load.js";
import { predictOptions } from "../options.js";
import type { PredictFlags } from "../options.js";
import type { Output } from "../output.js";
import { outJson } from "../output.js";
import { style } from "../render/text.js";

export interface AliasesOptions extends PredictFlags {
  source?: string | undefined;
  json?: boolean | undefined;
}

/** `aliases`: per function, the requester IDs its DMA may carry, in walk order, with causes */
export async function aliases(opts: AliasesOptions, io: Output): Promise<number> {
  const { snapshot, label } = await loadSource(opts.source);
  const p = predict(snapshot, predictOptions(opts));
  const data = aliasesToJson(snapshot, label, p);
  if (opts.json) {
    await outJson(io, data);
    return 0;
  }
  const s = style(io.color);
  const lines: string[] = [];
  for (const d of data.devices) {
    lines.push(`${s.bold(d.bdf)}  ${d.aliases.map((a) => (a.cause === "own" ? a.text : s.yellow(a.text))).join(", ")}`);
    for (const n of d.notes) lines.push(s.dim(`    ${n}`));
  }
  io.out(lines.join("\n"));
  return 0;
}

export interface WhoisOptions extends PredictFlags {
  rid: string;
  source?: string | undefined;
  json?: boolean | undefined;
}

/** `whois RID`: which functions can emit this requester ID, and why */
export async function whois(opts: WhoisOptions, io: Output): Promise<number> {
  const a = parseBdf(opts.rid);
  if (!a) throw new UsageError(`'${opts.rid}' is not a requester ID; expected [dddd:]bb:dd.f, e.g. 02:00.0`);
  const { snapshot } = await loadSource(opts.source);
  const p = predict(snapshot, predictOptions(opts));
  const data = whoisToJson(p, a.segment, devId(a.bus, a.devfn));
  if (opts.json) {
    await outJson(io, data);
    return data.emitters.length > 0 ? 0 : 1;
  }
  const s = style(io.color);
  const lines = [`${s.bold(data.rid)}${data.owner ? "" : s.dim(" (no function has this address)")}`];
  if (data.emitters.length === 0) lines.push("no function's DMA carries this requester ID");
  for (const e of data.emitters) lines.push(`  ${e.bdf}: ${e.alias.cause === "own" ? "its own ID" : e.alias.text}`);
  io.out(lines.join("\n"));
  return data.emitters.length > 0 ? 0 : 1;
}
