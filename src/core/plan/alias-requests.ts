/**
 * DMA aliases a guest asks the host to add. Every request is refused: the
 * host cannot check a guest's claim about what its device emits, and an
 * alias only works when it exists before the groups are formed. What this
 * module adds is the reason for each requested requester ID: whose DMA
 * the alias would capture, or that nothing there can be proven legitimate.
 * docs/guest-alias-requests.md explains why no safe form exists.
 */
import { busKey, devId, formatBdf } from "../topology/address.js";
import type { Topology } from "../topology/model.js";
import { ridKey } from "./conflicts.js";
import type { Domain, RidEmitter } from "./findings.js";
import type { AliasRequest } from "./plan.js";

export type RefusalReason =
  /** functions already emit this RID: the alias would pull their DMA into the guest's domain */
  | { readonly code: "captures"; readonly emitters: readonly RidEmitter[] }
  /** a VF SR-IOV could create there (up to TotalVFs) */
  | { readonly code: "captures-vf"; readonly pf: string; readonly vf: number; readonly pfDomain: Domain | undefined }
  /** nothing there now, but the bus lies below a bridge: a device hot-plugged or not enumerated there would be captured */
  | { readonly code: "captures-hidden"; readonly bridge: string; readonly bridgeDomain: Domain | undefined }
  /** the device itself already emits it */
  | { readonly code: "own-rid"; readonly emitter: RidEmitter }
  /** the kernel's alias mask holds devfns of the device's own bus only (kernel-spec §3.1) */
  | { readonly code: "cross-bus"; readonly deviceBus: number }
  /** nothing uses it that the host knows of; only the guest's word says the device emits it */
  | { readonly code: "unprovable" };

/** reasons that hold for the request as a whole */
export type RequestReason =
  | { readonly code: "not-guest-device"; readonly owner: Domain | undefined }
  /** the host has no way to check a guest's claim about its device */
  | { readonly code: "guest-claim" }
  /** aliases shape groups, so they must exist before grouping (kernel-spec §5.6) */
  | { readonly code: "after-grouping" };

export interface RidVerdict {
  readonly text: string;
  readonly line: number;
  readonly segment: number;
  readonly rid: number;
  readonly reasons: readonly RefusalReason[];
}

export interface AliasRequestOutcome {
  readonly request: AliasRequest;
  /** never anything else: no request is honoured */
  readonly decision: "refused";
  readonly deviceDomain: Domain | undefined;
  readonly rids: readonly RidVerdict[];
  readonly reasons: readonly RequestReason[];
}

export interface RequestContext {
  readonly topology: Topology;
  readonly emitters: ReadonlyMap<string, readonly RidEmitter[]>;
  readonly domainOf: (bdf: string) => Domain | undefined;
  /** VF slots SR-IOV could fill, by BDF */
  readonly vfSlots: ReadonlyMap<string, { readonly pf: string; readonly index: number }>;
}

/** the narrowest bridge whose bus range holds `bus` */
function bridgeAbove(topology: Topology, segment: number, bus: number): string | undefined {
  let best: { bdf: string; width: number } | undefined;
  for (const f of topology.functions.values()) {
    if (f.segment !== segment || f.secondary === undefined) continue;
    const sub = f.subordinate ?? f.secondary;
    if (f.secondary <= bus && bus <= sub && (!best || sub - f.secondary < best.width)) best = { bdf: f.bdf, width: sub - f.secondary };
  }
  return best?.bdf;
}

function ridReasons(ctx: RequestContext, device: string, segment: number, rid: number): RefusalReason[] {
  const fn = ctx.topology.functions.get(device)!;
  const reasons: RefusalReason[] = [];
  const all = ctx.emitters.get(ridKey(segment, rid)) ?? [];
  const mine = all.find((e) => e.bdf === device);
  const others = all.filter((e) => e.bdf !== device);
  if (others.length > 0) reasons.push({ code: "captures", emitters: others });
  const bdf = formatBdf(segment, rid >> 8, rid & 0xff);
  const vf = ctx.vfSlots.get(bdf);
  if (vf && !ctx.topology.functions.has(bdf)) reasons.push({ code: "captures-vf", pf: vf.pf, vf: vf.index, pfDomain: ctx.domainOf(vf.pf) });
  if (others.length === 0 && !vf && !ctx.topology.functions.has(bdf) && !ctx.topology.buses.get(busKey(segment, rid >> 8))?.virtual) {
    const bridge = bridgeAbove(ctx.topology, segment, rid >> 8);
    if (bridge) reasons.push({ code: "captures-hidden", bridge, bridgeDomain: ctx.domainOf(bridge) });
  }
  if (mine) reasons.push({ code: "own-rid", emitter: mine });
  if (rid >> 8 !== fn.bus || segment !== fn.segment) reasons.push({ code: "cross-bus", deviceBus: fn.bus });
  if (!reasons.some((r) => r.code === "captures" || r.code === "captures-vf" || r.code === "captures-hidden" || r.code === "own-rid")) {
    reasons.push({ code: "unprovable" });
  }
  return reasons;
}

/** the refusal of one request, with a reason per requester ID */
export function refuseAliasRequest(ctx: RequestContext, request: AliasRequest): AliasRequestOutcome {
  const fn = ctx.topology.functions.get(request.device)!;
  const deviceDomain = ctx.domainOf(request.device);
  const reasons: RequestReason[] = [];
  if (deviceDomain !== request.guest) reasons.push({ code: "not-guest-device", owner: deviceDomain });
  reasons.push({ code: "guest-claim" }, { code: "after-grouping" });
  const rids = request.requesterIds.map((r) => {
    const segment = r.rid.segment ?? fn.segment;
    const rid = devId(r.rid.bus ?? fn.bus, r.rid.devfn);
    return { text: r.text, line: r.line, segment, rid, reasons: ridReasons(ctx, request.device, segment, rid) };
  });
  return { request, decision: "refused", deviceDomain, rids, reasons };
}
