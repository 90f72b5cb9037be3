/**
 * What a fault line says about a machine: which functions can emit the
 * requester ID it names (the `whois` answer), whether a DMA alias covers
 * that ID, and the likely cause, as a structured code (English in
 * ./messages.ts).
 */
import type { Prediction } from "../iommu/predict.js";
import { whoisToJson } from "../json/aliases.js";
import type { AliasJson } from "../json/aliases.js";
import { atLeast, compareKernel, formatKernel, parseKernelVersion } from "../kernel/version.js";
import { ALIAS_QUIRK_ROWS, applyAliasQuirks, matchesRow } from "../quirks/index.js";
import type { Snapshot } from "../sources/snapshot.js";
import { ntbProxies } from "../switchtec/ntb-prediction.js";
import { busKey, formatBdf, formatDevfn } from "../topology/address.js";
import type { FaultLineFormat, ParsedFault } from "./parse.js";

/** what the IOMMU lacked, from the fault reason or event */
export type FaultKind =
  /** no context entry / DTE / STE for the ID: nothing attached it to a domain */
  | "no-entry"
  /** an entry exists but its tables do not map the address with that access */
  | "no-mapping"
  /** interrupt remapping refused an MSI */
  | "interrupt"
  | "other";

export type FaultCause =
  | { readonly code: "switchtec-proxy-not-alias"; readonly proxy: string; readonly partition: number; readonly nt: string; readonly since: string | undefined }
  | { readonly code: "switchtec-proxy-maybe"; readonly proxy: string; readonly nt: string }
  | { readonly code: "switchtec-proxy-alias"; readonly proxy: string; readonly partition: number; readonly nt: string; readonly kind: FaultKind }
  | { readonly code: "bus-absent"; readonly rid: string }
  | { readonly code: "no-emitter"; readonly rid: string }
  | { readonly code: "alias-not-attached"; readonly rid: string; readonly emitters: readonly string[]; readonly via: string }
  | { readonly code: "not-attached"; readonly bdf: string; readonly amdDefault: boolean }
  | { readonly code: "not-mapped"; readonly bdfs: readonly string[]; readonly address: string | undefined; readonly access: "read" | "write" | undefined }
  | { readonly code: "interrupt-blocked"; readonly bdfs: readonly string[] }
  | { readonly code: "interrupt-not-pci"; readonly rid: string }
  | { readonly code: "device-error"; readonly event: string; readonly bdfs: readonly string[] };

export type FaultNote =
  | { readonly code: "segment-assumed"; readonly segments: number }
  | { readonly code: "stream-id-as-rid"; readonly streamId: number }
  | { readonly code: "shared-rid"; readonly groups: readonly number[] }
  | { readonly code: "printed-against"; readonly device: string; readonly rid: string }
  | { readonly code: "quirk-alias"; readonly quirk: string }
  /** the line's format was printed by other releases than the one modelled */
  | { readonly code: "era-mismatch"; readonly format: FaultLineFormat; readonly since: string | undefined; readonly until: string | undefined; readonly kernel: string };

export interface FaultExplanation {
  readonly fault: ParsedFault;
  readonly kind: FaultKind;
  /** the requester ID with its segment */
  readonly rid: string;
  /** functions whose DMA may carry that ID, and why */
  readonly emitters: readonly { readonly bdf: string; readonly alias: AliasJson }[];
  /** the function at that address, if any */
  readonly owner: string | null;
  /** the ID is another function's DMA alias (quirk, bridge, IVRS), so the kernel programs it when that function is attached */
  readonly aliasCovered: boolean;
  readonly cause: FaultCause;
  readonly notes: readonly FaultNote[];
}

/** the fault reason / event, sorted into what the IOMMU was missing (hw-models §2.3, §3.3, §4) */
export function faultKind(f: ParsedFault): FaultKind {
  if (f.kind === "interrupt") return "interrupt";
  const c = f.code;
  switch (f.arch) {
    case "vtd":
      if (c === undefined) return "other";
      if (c < 0x30) return [1, 2, 3, 8, 9, 10, 11].includes(c) ? "no-entry" : [4, 5, 6, 7, 12].includes(c) ? "no-mapping" : "other";
      if (c < 0x60) return "no-entry"; // scalable mode: root, context, PASID directory and table entries
      return c < 0xa0 ? "no-mapping" : "other"; // first- and second-level paging entries
    case "amd":
      if (f.reason !== "IO_PAGE_FAULT") return "other";
      // every DTE starts as domain 0 with no access: nothing attached the ID
      return f.domain === 0 ? "no-entry" : "no-mapping";
    case "smmu":
      if (c === undefined) return "other";
      if ([0x02, 0x03, 0x04, 0x06, 0x07].includes(c)) return "no-entry";
      return c >= 0x10 && c <= 0x13 ? "no-mapping" : "other";
  }
}

/** the releases that print each format: [first, first that no longer does] (hw-models §2.4, §3.3) */
const FORMAT_RELEASES: Partial<Record<FaultLineFormat, readonly [string | undefined, string | undefined]>> = {
  "vtd-two-line": [undefined, "4.7"],
  "vtd-one-line": ["4.7", "5.4"],
  "vtd-pasid": ["5.4", "5.13"],
  "vtd-no-pasid": ["5.13", undefined],
  "vtd-with-pasid": ["5.13", undefined],
  "amd-padded": [undefined, "5.0"],
  "amd-no-segment": ["5.0", "5.19"],
  "amd-segment": ["5.19", undefined],
};

function eraMismatch(f: ParsedFault, p: Prediction): FaultNote | undefined {
  const range = FORMAT_RELEASES[f.format];
  if (!range) return undefined;
  const at = (v: string): boolean => {
    const k = parseKernelVersion(v)!;
    return atLeast(p.kernel, k.major, k.minor);
  };
  const [since, until] = range;
  if ((since === undefined || at(since)) && (until === undefined || !at(until))) return undefined;
  return { code: "era-mismatch", format: f.format, since, until, kernel: formatKernel(p.kernel) };
}

/** a kernel recent enough for every quirk row we know */
const NEWEST = parseKernelVersion("99.0")!;

/** Switchtec NT functions on the ID's bus whose proxy IDs the quirk would alias, whatever the modelled kernel */
function switchtecProxy(snapshot: Snapshot, p: Prediction, segment: number, rid: number): FaultCause | undefined {
  const quirks = applyAliasQuirks(p.topology, { kernel: NEWEST });
  const proxies = ntbProxies(quirks, snapshot.ntb, { source: snapshot.source, kernel: p.kernel });
  const proxy = formatDevfn(rid & 0xff);
  let maybe: FaultCause | undefined;
  for (const [nt, n] of proxies) {
    const fn = p.topology.functions.get(nt);
    if (!fn || fn.segment !== segment || fn.bus !== rid >> 8) continue;
    if (!n.result) {
      maybe ??= { code: "switchtec-proxy-maybe", proxy, nt };
      continue;
    }
    const entry = n.result.entries.find((e) => e.devfn === (rid & 0xff));
    if (!entry) continue;
    // the first release any Switchtec row covered this device in
    const since = ALIAS_QUIRK_ROWS.filter((r) => r.effect.kind === "switchtec-proxy" && matchesRow(fn, r))
      .map((r) => r.kernels?.since)
      .filter((v): v is string => v !== undefined && parseKernelVersion(v.replace(/^≈/, "")) !== undefined)
      .sort((a, b) => compareKernel(parseKernelVersion(a.replace(/^≈/, ""))!, parseKernelVersion(b.replace(/^≈/, ""))!))[0];
    return { code: "switchtec-proxy-not-alias", proxy, partition: entry.partition, nt, since };
  }
  return maybe;
}

/** reads one fault against a prediction of the machine it happened on */
export function explainFault(snapshot: Snapshot, p: Prediction, f: ParsedFault): FaultExplanation {
  const notes: FaultNote[] = [];
  const segments = new Set([...p.topology.functions.values()].map((fn) => fn.segment));
  let segment = f.segment;
  if (segment === undefined) {
    segment = segments.size === 1 ? [...segments][0]! : 0;
    if (segments.size > 1) notes.push({ code: "segment-assumed", segments: segments.size });
  }
  if (f.arch === "smmu") notes.push({ code: "stream-id-as-rid", streamId: f.streamId ?? f.rid });
  const era = eraMismatch(f, p);
  if (era) notes.push(era);
  const who = whoisToJson(p, segment, f.rid);
  const kind = faultKind(f);
  const rid = who.rid;
  if (f.device && f.device !== rid) notes.push({ code: "printed-against", device: f.device, rid });
  const emitters = who.emitters;
  const aliasEmitters = emitters.filter((e) => e.alias.cause !== "own");
  const aliasCovered = aliasEmitters.length > 0;
  const bdfs = [...new Set(emitters.map((e) => e.bdf))];
  const groups = [...new Set(bdfs.map((b) => p.groups.groupOf.get(b)).filter((g): g is number => g !== undefined))].sort((a, b) => a - b);
  if (groups.length > 1) notes.push({ code: "shared-rid", groups });
  for (const e of aliasEmitters) if (e.alias.cause === "quirk") notes.push({ code: "quirk-alias", quirk: e.alias.quirk });

  let cause: FaultCause;
  if (emitters.length === 0 && kind === "interrupt") {
    cause = { code: "interrupt-not-pci", rid };
  } else if (emitters.length === 0) {
    const st = switchtecProxy(snapshot, p, segment, f.rid);
    if (st) cause = st;
    else if (!p.topology.buses.has(busKey(segment, f.rid >> 8))) cause = { code: "bus-absent", rid };
    else cause = { code: "no-emitter", rid };
  } else if (kind === "interrupt") {
    cause = { code: "interrupt-blocked", bdfs };
  } else if (kind === "other") {
    cause = { code: "device-error", event: f.reason ?? `code ${f.code ?? "?"}`, bdfs };
  } else {
    const ntAlias = aliasEmitters.find((e) => e.alias.cause === "quirk" && e.alias.quirk.startsWith("switchtec-"));
    const ntEntry = ntAlias && p.ntb.get(ntAlias.bdf)?.result?.entries.find((e) => e.devfn === (f.rid & 0xff));
    if (ntAlias && ntEntry) {
      cause = { code: "switchtec-proxy-alias", proxy: formatDevfn(f.rid & 0xff), partition: ntEntry.partition, nt: ntAlias.bdf, kind };
    } else if (kind === "no-mapping") {
      cause = { code: "not-mapped", bdfs, address: f.address, access: f.access };
    } else if (aliasCovered && !who.owner) {
      const first = aliasEmitters[0]!.alias;
      cause = { code: "alias-not-attached", rid, emitters: bdfs, via: first.text };
    } else {
      cause = { code: "not-attached", bdf: who.owner ?? bdfs[0]!, amdDefault: f.arch === "amd" };
    }
  }
  return { fault: f, kind, rid, emitters, owner: who.owner, aliasCovered, cause, notes };
}

/** the requester ID of a fault as `ssss:bb:dd.f`, for listings without a source */
export const faultRid = (f: ParsedFault): string => formatBdf(f.segment ?? 0, f.rid >> 8, f.rid & 0xff);
