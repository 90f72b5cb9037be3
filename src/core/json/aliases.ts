import { dmaAliases } from "../iommu/dma-alias.js";
import type { DmaAlias } from "../iommu/dma-alias.js";
import type { Prediction } from "../iommu/predict.js";
import { formatAlias } from "../messages.js";
import type { Snapshot } from "../sources/snapshot.js";
import { SWITCHTEC_PROXY_UNKNOWN } from "../switchtec/kernel-messages.js";
import { formatBdf, parseBdf } from "../topology/address.js";
import type { PciFunction } from "../topology/model.js";
import { sourceToJson } from "./topology.js";
import type { SourceJson } from "./topology.js";

export type AliasJson =
  | { rid: string; cause: "own"; text: string }
  | { rid: string; cause: "real-dma-dev"; via: string; text: string }
  | { rid: string; cause: "quirk"; quirk: string; text: string }
  | { rid: string; cause: "bridge"; via: string; rule: string; text: string };

export interface DeviceAliasesJson {
  bdf: string;
  aliases: AliasJson[];
  /** quirk rows that fired on this function */
  quirks: string[];
  /** what the quirk aliases cost: other functions that sit at those devfns */
  notes: string[];
  /** Switchtec NT functions: where the proxy aliases come from */
  ntb: { status: "from-registers" | "from-design" | "unknown"; quirk: string; warnings: string[] } | null;
}

export interface AliasesJson {
  schema: "iommu-atlas/aliases@1";
  source: SourceJson;
  devices: DeviceAliasesJson[];
}

export function aliasToJson(fn: PciFunction, a: DmaAlias): AliasJson {
  // behind VMD every alias lives in the VMD endpoint's segment
  const segment = parseBdf(fn.realDmaDev ?? fn.bdf)?.segment ?? fn.segment;
  const rid = formatBdf(segment, a.rid >> 8, a.rid & 0xff);
  switch (a.cause) {
    case "own":
      return { rid, cause: "own", text: formatAlias(a) };
    case "real-dma-dev":
      return { rid, cause: "real-dma-dev", via: a.via, text: formatAlias(a) };
    case "quirk":
      return { rid, cause: "quirk", quirk: a.source, text: formatAlias(a) };
    case "bridge":
      return { rid, cause: "bridge", via: a.via, rule: a.rule, text: formatAlias(a) };
  }
}

export function deviceAliases(p: Prediction, fn: PciFunction): DeviceAliasesJson {
  const aliases = dmaAliases(p.topology, p.props, fn);
  const props = p.props(fn.bdf);
  const notes: string[] = [];
  if (props.aliasDevfns.length > 0) {
    const others = aliases
      .filter((a) => a.cause === "quirk")
      .map((a) => aliasToJson(fn, a).rid)
      .filter((b) => b !== fn.bdf && p.topology.functions.has(b));
    notes.push(
      `quirk aliases give ${fn.bdf} ${props.aliasDevfns.length} requester ID${props.aliasDevfns.length === 1 ? "" : "s"} on bus ${fn.bus.toString(16).padStart(2, "0")}` +
        (others.length ? `; ${[...new Set(others)].join(", ")} use${others.length === 1 ? "s" : ""} one of them too, so the IOMMU cannot tell them apart` : "; any device placed at those devfns would share its IOMMU context"),
    );
  }
  const ntb = p.ntb.get(fn.bdf);
  if (ntb?.status === "unknown") notes.push(SWITCHTEC_PROXY_UNKNOWN);
  return {
    bdf: fn.bdf,
    aliases: aliases.map((a) => aliasToJson(fn, a)),
    quirks: (p.quirks.get(fn.bdf)?.fired ?? []).map((f) => f.id),
    notes,
    ntb: ntb ? { status: ntb.status, quirk: ntb.rowId, warnings: (ntb.result?.warnings ?? []).map((w) => w.text) } : null,
  };
}

/** `aliases --json`: every function's requester IDs in walk order */
export function aliasesToJson(snapshot: Snapshot, label: string, p: Prediction): AliasesJson {
  return {
    schema: "iommu-atlas/aliases@1",
    source: sourceToJson(snapshot, label),
    devices: p.topology.scanOrder.map((b) => deviceAliases(p, p.topology.functions.get(b)!)),
  };
}

export interface WhoisJson {
  schema: "iommu-atlas/whois@1";
  rid: string;
  /** functions whose DMA may carry this requester ID, and why */
  emitters: { bdf: string; alias: AliasJson }[];
  /** the function that owns the ID as its own address, if any */
  owner: string | null;
}

/** the inverse of aliases: which functions can emit this requester ID */
export function whoisToJson(p: Prediction, segment: number, rid: number): WhoisJson {
  const emitters: WhoisJson["emitters"] = [];
  for (const b of p.topology.scanOrder) {
    const fn = p.topology.functions.get(b)!;
    if (fn.segment !== segment) continue;
    const seen = new Set<string>();
    for (const a of dmaAliases(p.topology, p.props, fn)) {
      if (a.rid !== rid) continue;
      const j = aliasToJson(fn, a);
      const key = `${j.cause}/${"via" in j ? j.via : ""}/${"quirk" in j ? j.quirk : ""}`;
      if (seen.has(key)) continue;
      seen.add(key);
      emitters.push({ bdf: fn.bdf, alias: j });
    }
  }
  const ridBdf = formatBdf(segment, rid >> 8, rid & 0xff);
  return { schema: "iommu-atlas/whois@1", rid: ridBdf, emitters, owner: p.topology.functions.has(ridBdf) ? ridBdf : null };
}
