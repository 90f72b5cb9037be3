/**
 * Requester IDs and who may emit them. The IOMMU keys its tables on the
 * requester ID alone (one context entry or DTE per RID), so a RID that
 * functions of two domains can put on the wire cannot be translated right
 * for both.
 */
import { ivrsAliasOf } from "../acpi/ivrs.js";
import { dmaAliases } from "../iommu/dma-alias.js";
import type { Prediction } from "../iommu/predict.js";
import { busKey, devId, funcOf, parseBdf } from "../topology/address.js";
import type { PciFunction } from "../topology/model.js";
import type { Domain, Finding, RidEmitter } from "./findings.js";

/** `segment/rid`, the key of the IOMMU's per-segment tables */
export const ridKey = (segment: number, rid: number): string => `${segment}/${rid}`;

/**
 * Function numbers a function may borrow as extra tag bits (hw-models.md
 * §5.3): DevCap "Phantom Functions Supported" = N makes the top N bits of
 * the function number part of the tag. Not on ARI buses, where the function
 * number has no slot bits to keep.
 */
export function phantomDevfns(fn: PciFunction, ari: boolean): number[] {
  const n = fn.phantomFunctions;
  if (n === 0 || ari) return [];
  const keep = (1 << (3 - n)) - 1;
  const own = funcOf(fn.devfn);
  const out: number[] = [];
  for (let x = 0; x < 1 << n; x++) {
    const f = (own & keep) | (x << (3 - n));
    if (f !== own) out.push((fn.devfn & ~7) | f);
  }
  return out;
}

/**
 * Every requester ID each function may emit, with why (own, alias walk,
 * phantom, IVRS), keyed by ridKey. Functions whose domain is undecided
 * (undefined) are left out.
 */
export function ridEmitters(p: Prediction, domainOf: (bdf: string) => Domain | undefined): Map<string, RidEmitter[]> {
  const out = new Map<string, RidEmitter[]>();
  const add = (segment: number, rid: number, e: RidEmitter): void => {
    const key = ridKey(segment, rid);
    const list = out.get(key) ?? [];
    if (!list.some((x) => x.bdf === e.bdf)) list.push(e);
    out.set(key, list);
  };
  for (const fn of p.topology.functions.values()) {
    // functions without a group have no IOMMU context at all, and unscanned ones no driver to start DMA
    if (!fn.scanned || !p.groups.groupOf.has(fn.bdf)) continue;
    const domain = domainOf(fn.bdf);
    if (domain === undefined) continue;
    for (const a of dmaAliases(p.topology, p.props, fn)) {
      if (a.cause === "own") add(fn.segment, a.rid, { bdf: fn.bdf, domain, cause: "own" });
      // behind VMD: the function's DMA carries the VMD endpoint's own requester ID
      else if (a.cause === "real-dma-dev") add(parseBdf(a.via)!.segment, a.rid, { bdf: fn.bdf, domain, cause: "own" });
      else if (a.cause === "quirk") add(fn.segment, a.rid, { bdf: fn.bdf, domain, cause: "quirk", source: a.source });
      else add(fn.segment, a.rid, { bdf: fn.bdf, domain, cause: "bridge", via: a.via, rule: a.rule });
    }
    const ari = p.topology.buses.get(busKey(fn.segment, fn.bus))?.ari ?? false;
    const enabled = fn.config?.express?.phantomEnabled;
    for (const devfn of phantomDevfns(fn, ari)) add(fn.segment, devId(fn.bus, devfn), { bdf: fn.bdf, domain, cause: "phantom", phantomEnabled: enabled });
    if (p.layout.ivrs) {
      // the AMD driver clones the DTE to the IVRS alias even across buses (kernel-spec §7.2)
      const own = devId(fn.bus, fn.devfn);
      const alias = ivrsAliasOf(p.layout.ivrs, fn.segment, own);
      if (alias !== own) add(fn.segment, alias, { bdf: fn.bdf, domain, cause: "ivrs" });
    }
  }
  return out;
}

const signature = (list: readonly RidEmitter[]): string =>
  list
    .map((e) => `${e.bdf}|${e.domain}|${e.cause}|${e.via ?? ""}`)
    .sort()
    .join(",");

/** requester IDs emitted in two or more domains, one finding per set of emitters */
export function aliasConflicts(emitters: ReadonlyMap<string, readonly RidEmitter[]>): Finding[] {
  const found = new Map<string, { segment: number; rids: number[]; emitters: readonly RidEmitter[] }>();
  for (const [key, list] of emitters) {
    if (new Set(list.map((e) => e.domain)).size < 2) continue;
    const [segment, rid] = key.split("/").map(Number) as [number, number];
    const sig = `${segment}#${signature(list)}`;
    const entry = found.get(sig) ?? { segment, rids: [], emitters: [...list].sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0)) };
    entry.rids.push(rid);
    found.set(sig, entry);
  }
  return [...found.values()]
    .map((c) => ({ code: "alias-conflict" as const, segment: c.segment, rids: c.rids.sort((a, b) => a - b), emitters: c.emitters }))
    .sort((a, b) => a.segment - b.segment || a.rids[0]! - b.rids[0]!);
}
