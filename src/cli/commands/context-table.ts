import { predict } from "../../core/iommu/predict.js";
import { contextTableToJson } from "../../core/program/context-table.js";
import type { Assignment } from "../../core/program/context-table.js";
import { ADDRESS_WIDTHS } from "../../core/program/page-table.js";
import type { AddressWidth } from "../../core/program/page-table.js";
import type { VtdMode } from "../../core/program/vtd.js";
import { normalizeBdf } from "../../core/topology/address.js";
import { UsageError } from "../errors.js";
import { loadSource } from "../load.js";
import { predictOptions } from "../options.js";
import type { PredictFlags } from "../options.js";
import type { Output } from "../output.js";
import { outJson } from "../output.js";
import { renderContextTable } from "../render/context-table.js";
import { style } from "../render/text.js";

export interface ContextTableOptions extends PredictFlags {
  source?: string | undefined;
  json?: boolean | undefined;
  /** `BDF=DOMAIN`, repeatable */
  assign?: string[] | undefined;
  /** VT-d table mode: legacy (default) or scalable */
  mode?: string | undefined;
  /** bits of the domains' page tables: 39, 48 (default) or 57 */
  addressWidth?: string | undefined;
}

const DOMAIN_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const EXAMPLE = "e.g. --assign 0000:02:01.0=vm1 (domain 'identity' for pass-through, 'blocked' to block)";

/** one `--assign BDF=DOMAIN` */
export function parseAssign(text: string): Assignment {
  const eq = text.indexOf("=");
  const bdf = eq > 0 ? normalizeBdf(text.slice(0, eq)) : undefined;
  const domain = eq > 0 ? text.slice(eq + 1).trim() : "";
  if (!bdf) throw new UsageError(`--assign '${text}': expected BDF=DOMAIN with a PCI address [dddd:]bb:dd.f; ${EXAMPLE}`);
  if (!DOMAIN_NAME.test(domain)) throw new UsageError(`--assign '${text}': the domain name must be 1–64 letters, digits or _ . : -; ${EXAMPLE}`);
  return { bdf, domain };
}

function parseAssignments(texts: readonly string[]): Assignment[] {
  if (texts.length === 0) throw new UsageError(`--assign is required: give at least one BDF=DOMAIN, ${EXAMPLE}`);
  const out: Assignment[] = [];
  for (const text of texts) {
    const a = parseAssign(text);
    const earlier = out.find((o) => o.bdf === a.bdf);
    if (earlier && earlier.domain !== a.domain) throw new UsageError(`--assign '${text}': ${a.bdf} is already assigned to '${earlier.domain}'; a function is attached to one domain at a time`);
    if (!earlier) out.push(a);
  }
  return out;
}

function parseMode(text: string | undefined): VtdMode | undefined {
  if (text === undefined) return undefined;
  if (text === "legacy" || text === "scalable") return text;
  throw new UsageError(`--mode '${text}': expected legacy or scalable`);
}

function parseWidth(text: string | undefined): AddressWidth | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  const w = ADDRESS_WIDTHS.find((x) => x === n);
  if (w === undefined) throw new UsageError(`--address-width '${text}': expected ${ADDRESS_WIDTHS.join(", ")} (3-, 4- or 5-level tables)`);
  return w;
}

/** `context-table --assign BDF=DOMAIN…`: the IOMMU entries Linux programs; exit 1 on conflicts or unattachable functions */
export async function contextTable(opts: ContextTableOptions, io: Output): Promise<number> {
  const assignments = parseAssignments(opts.assign ?? []);
  const mode = parseMode(opts.mode);
  const addressWidth = parseWidth(opts.addressWidth);
  const { snapshot, label } = await loadSource(opts.source);
  for (const a of assignments) {
    if (!snapshot.topology.functions.has(a.bdf)) {
      throw new UsageError(`--assign ${a.bdf}=${a.domain}: ${label} has no function ${a.bdf}; run 'iommu-atlas show' on the same source to list them`);
    }
  }
  const p = predict(snapshot, predictOptions(opts));
  const data = contextTableToJson(snapshot, label, p, assignments, { mode, addressWidth });
  if (opts.json) await outJson(io, data);
  else io.out(renderContextTable(data, style(io.color)).join("\n"));
  return data.conflicts.length > 0 || data.issues.some((i) => i.severity === "error") ? 1 : 0;
}
