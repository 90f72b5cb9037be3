/**
 * Checks a VM assignment plan against a machine before anything is bound:
 * SR-IOV first (the VFs it creates are functions like any other), then
 * where each function goes, then what VFIO and the IOMMU will make of it.
 */
import { predict } from "../iommu/predict.js";
import type { PredictOptions, Prediction } from "../iommu/predict.js";
import { noSplitReason, splitOptions } from "../iommu/whatif.js";
import type { Snapshot } from "../sources/snapshot.js";
import { buildActions } from "./actions.js";
import type { Actions } from "./actions.js";
import { refuseAliasRequest } from "./alias-requests.js";
import type { AliasRequestOutcome } from "./alias-requests.js";
import { aliasConflicts, ridEmitters } from "./conflicts.js";
import { findingSeverity } from "./findings.js";
import type { Domain, Finding, SplitFix, SplitMember } from "./findings.js";
import { noFunctionMessage } from "./messages.js";
import { HOST } from "./plan.js";
import type { Plan, PlanProblem } from "./plan.js";
import { isBridge, resolvePlan } from "./resolve.js";
import type { Resolution } from "./resolve.js";
import { rmrOutcome, rmrrLookup, rmrrOutcome, rmrrRelaxable } from "./rmrr.js";
import { applySriov, potentialVfRids } from "./sriov.js";
import type { SriovPlan } from "./sriov.js";
import { driverAllowed, isVfioDriver, viabilityModel } from "./viability.js";

export interface CheckPlanOptions {
  /** kernel, command line and ACS mode to model; as for `groups` */
  readonly predict?: PredictOptions;
  /** how problems name the source ("this host", a path) */
  readonly label?: string;
}

export interface CheckCounts {
  readonly errors: number;
  readonly warnings: number;
  readonly info: number;
  readonly refused: number;
}

export interface CheckResult {
  readonly plan: Plan;
  /** the machine with the plan's VFs in it */
  readonly snapshot: Snapshot;
  readonly prediction: Prediction;
  readonly resolution: Resolution;
  /**
   * the domain each function ends up in; undefined for a bridge in a group
   * split between guests, which goes with whichever guest claims the group
   */
  readonly domainOf: (bdf: string) => Domain | undefined;
  readonly findings: readonly Finding[];
  readonly sriov: readonly SriovPlan[];
  readonly aliasRequests: readonly AliasRequestOutcome[];
  readonly counts: CheckCounts;
  /** unsafe when any finding is an error; refused alias requests never make a plan unsafe, since none is honoured */
  readonly verdict: "safe" | "unsafe";
  /** only for a safe plan */
  readonly actions: Actions | undefined;
}

export type CheckOutcome = { readonly ok: true; readonly result: CheckResult } | { readonly ok: false; readonly problems: readonly PlanProblem[] };

/**
 * The domain of each function: its guest, "host" when nobody claims it,
 * and for a bridge nobody can claim, the guest that takes its group (VFIO
 * attaches the whole group, bridges included): undefined while several
 * guests want that group.
 */
function domains(p: Prediction, r: Resolution): (bdf: string) => Domain | undefined {
  const owner = new Map<number, string | undefined>();
  for (const g of p.groups.groups) {
    const guests = new Set(g.members.map((m) => r.guestOf.get(m)).filter((x): x is string => x !== undefined));
    if (guests.size > 0) owner.set(g.id, guests.size === 1 ? [...guests][0]! : undefined);
  }
  return (bdf) => {
    const guest = r.guestOf.get(bdf);
    if (guest !== undefined) return guest;
    const fn = p.topology.functions.get(bdf);
    const g = p.groups.groupOf.get(bdf);
    if (fn && isBridge(fn) && g !== undefined && owner.has(g)) return owner.get(g);
    return HOST;
  };
}

/** what every phase of the check reads */
interface Ctx {
  readonly plan: Plan;
  /** as loaded, before the plan's VFs (its kernel groups) */
  readonly source: Snapshot;
  /** with the plan's VFs */
  readonly machine: Snapshot;
  readonly base: PredictOptions;
  readonly p: Prediction;
  readonly res: Resolution;
}

/** guest, host, host-listed or bridge: who a member of a guest's group belongs to */
function roles(ctx: Ctx): { role: (bdf: string) => SplitMember["role"]; party: (bdf: string) => Domain | undefined } {
  const { res, p } = ctx;
  const role = (bdf: string): SplitMember["role"] =>
    res.guestOf.has(bdf) ? "guest" : isBridge(p.topology.functions.get(bdf)!) ? "bridge" : res.hostListed.has(bdf) ? "host-listed" : "host";
  return { role, party: (bdf) => (role(bdf) === "bridge" ? undefined : (res.guestOf.get(bdf) ?? HOST)) };
}

/** problems with single functions a guest takes: no group, not scanned, wrong driver, a PF with VFs */
function functionFindings(ctx: Ctx, sriov: readonly SriovPlan[]): Finding[] {
  const { p, res } = ctx;
  const out: Finding[] = [];
  for (const [bdf, guest] of res.guestOf) {
    const fn = p.topology.functions.get(bdf)!;
    if (!fn.scanned) out.push({ code: "not-scanned", bdf, guest });
    else if (!p.groups.groupOf.has(bdf)) out.push({ code: "no-group", bdf, guest, reason: p.layout.ungrouped.get(bdf) ?? "not-covered" });
    const driver = res.wanted.get(bdf)!;
    if (!isVfioDriver(driver)) out.push({ code: "driver-not-vfio", bdf, guest, driver });
    const vfs = sriov.find((s) => s.pf === bdf)?.request.numVfs ?? (fn.config?.sriov?.vfEnable ? fn.config.sriov.numVFs : 0);
    if (vfs > 0) out.push({ code: "pf-with-vfs-to-guest", pf: bdf, guest, numVfs: vfs });
  }
  for (const b of res.bridgesListed) out.push({ code: "bridge-in-guest", bdf: b.bdf, guest: b.guest, place: { line: b.entry.line, path: b.entry.path } });
  return out;
}

/** a group with functions for several parties: why they share it, and what would fix it */
function splitFinding(ctx: Ctx, group: number, members: readonly string[], guests: readonly string[]): Finding {
  const { p, res, machine, base } = ctx;
  const { role, party } = roles(ctx);
  const split: SplitMember[] = members.map((bdf) => ({ bdf, role: role(bdf), domain: party(bdf), steps: p.groups.steps.get(bdf) ?? [] }));
  const wholeGroup = guests.map((guest) => ({
    guest,
    move: split.filter((m) => m.domain !== undefined && m.domain !== guest).map((m) => ({ bdf: m.bdf, from: m.domain! })),
  }));
  const rep = members.find((m) => res.guestOf.has(m))!;
  const splits: SplitFix[] = splitOptions(machine, p, rep, base).map((o) => {
    // does the smaller group keep the parties apart, or only shrink?
    const partiesIn = new Map<number, Set<string>>();
    for (const m of members) {
      const id = o.groupsAfter.groupOf.get(m);
      const who = party(m);
      if (id !== undefined && who !== undefined) partiesIn.set(id, (partiesIn.get(id) ?? new Set()).add(who));
    }
    return { change: o.change, groupAfter: [...o.groupAfter].sort(), separates: [...partiesIn.values()].every((x) => x.size < 2) };
  });
  return {
    code: "group-split",
    group,
    members: split,
    wholeGroup,
    splits,
    noSplit: splits.length === 0 ? noSplitReason(split.map((m) => m.steps)) : undefined,
  };
}

/** every group a guest takes part of: split, viability (kernel-spec §8.1), RMRR (§8.2), unknown ACS, the kernel's record */
function groupFindings(ctx: Ctx): Finding[] {
  const { plan, p, res, source } = ctx;
  const topology = p.topology;
  const { role, party } = roles(ctx);
  const model = viabilityModel(p.kernel);
  const rmrrOf = rmrrLookup(p);
  const order = (name: string): number => plan.guests.findIndex((x) => x.name === name);
  const out: Finding[] = [];
  for (const g of p.groups.groups) {
    const guests = [...new Set(g.members.map((m) => res.guestOf.get(m)).filter((x): x is string => x !== undefined))].sort((a, b) => order(a) - order(b));
    if (guests.length === 0) continue;
    const members = [...g.members].sort();
    const owner = guests[0]!;
    if (new Set(members.map(party).filter((x) => x !== undefined)).size > 1) out.push(splitFinding(ctx, g.id, members, guests));

    for (const guest of guests) {
      const blockers = members
        .filter((m) => role(m) === "bridge" || res.guestOf.get(m) === guest)
        .map((m) => ({ bdf: m, driver: res.wanted.get(m) ?? topology.functions.get(m)!.driver }))
        .filter((b): b is { bdf: string; driver: string } => !driverAllowed(model, topology.functions.get(b.bdf)!, b.driver));
      if (blockers.length > 0) out.push({ code: "group-not-viable", group: g.id, guest, model, blockers });
    }

    // VFIO attaches the whole group, so every member's RMRR counts
    for (const m of members) {
      const fn = topology.functions.get(m)!;
      const hit = rmrrOf(fn);
      if (!hit) continue;
      if (hit.rmr) {
        const relaxable = hit.rmr.remapPermitted ? "rmr" : undefined;
        out.push({ code: "rmrr", bdf: m, guest: res.guestOf.get(m) ?? owner, group: g.id, via: hit.via, regions: hit.regions, relaxable, outcome: rmrOutcome(p.kernel, hit.rmr.remapPermitted), table: "IORT" });
        continue;
      }
      const relaxable = rmrrRelaxable(fn);
      out.push({ code: "rmrr", bdf: m, guest: res.guestOf.get(m) ?? owner, group: g.id, via: hit.via, regions: hit.regions, relaxable, outcome: rmrrOutcome(p.kernel, relaxable) });
    }

    const unknown = [...new Set(members.flatMap((m) => p.groups.dependsOnUnknown.get(m) ?? []))].sort();
    if (unknown.length > 0) out.push({ code: "acs-unknown", group: g.id, guest: owner, functions: unknown });

    const recorded = members.map((m) => topology.functions.get(m)!).filter((f) => !f.predicted);
    const kernelGroup = recorded.find((f) => f.kernelGroup !== undefined)?.kernelGroup;
    const kernelMembers = kernelGroup === undefined ? undefined : source.kernelGroups?.get(kernelGroup);
    if (kernelGroup !== undefined && kernelMembers) {
      const predicted = recorded.map((f) => f.bdf);
      const same = predicted.length === kernelMembers.length && predicted.every((b) => kernelMembers.includes(b));
      if (!same) out.push({ code: "kernel-groups-differ", group: g.id, kernelGroup, kernelMembers: [...kernelMembers].sort(), predicted });
    }
  }
  return out;
}

/**
 * Checks a plan against a machine: SR-IOV first, then the prediction with
 * the plan's VFs in it, then where each selector lands; problems there (a
 * selector matching nothing, an impossible VF count) end the check with
 * `ok: false`. Otherwise the findings, the refused alias requests, the
 * verdict and, for a safe plan, the actions.
 */
export function checkPlan(snapshot: Snapshot, plan: Plan, opts: CheckPlanOptions = {}): CheckOutcome {
  const label = opts.label ?? "the source";
  const base = opts.predict ?? {};
  const sr = applySriov(snapshot, plan.sriov, label);
  if (!sr.ok) return { ok: false, problems: sr.problems };
  const machine = sr.snapshot;
  let p = predict(machine, base);
  const topology = p.topology;
  const resolved = resolvePlan(plan, topology, label);
  // arm64: a guest's function will be bound to its VFIO driver, and that probe sets it up for the SMMU
  if (resolved.ok && p.arm64 && !p.arm64.probe.atAdd) {
    const unprobed = new Set(p.arm64.probe.unprobed);
    const binds = new Map(base.binds ?? []);
    for (const b of resolved.resolution.guestOf.keys()) if (unprobed.has(b) && !binds.has(b)) binds.set(b, resolved.resolution.wanted.get(b) ?? "vfio-pci");
    if (binds.size > (base.binds?.size ?? 0)) p = predict(machine, { ...base, binds });
  }
  const problems: PlanProblem[] = resolved.ok ? [] : [...resolved.problems];
  const vfSlots = potentialVfRids(topology);
  for (const r of plan.aliasRequests) {
    if (!topology.functions.has(r.device)) problems.push({ ...r.devicePlace, message: noFunctionMessage(r.device, label, vfSlots.get(r.device)) });
  }
  if (!resolved.ok || problems.length > 0) return { ok: false, problems: problems.sort((a, b) => a.line - b.line) };
  const res = resolved.resolution;
  const ctx: Ctx = { plan, source: snapshot, machine, base, p, res };
  const domainOf = domains(p, res);
  const findings: Finding[] = [...functionFindings(ctx, sr.plans), ...groupFindings(ctx)];
  if (res.guestOf.size > 0 && !p.layout.dmar && !(p.arm64 && p.layout.iort)) {
    findings.push({ code: "rmrr-not-checked", iommu: p.layout.kind === "amd" ? "amd" : p.layout.kind === "smmuv3" ? "smmuv3" : "assumed" });
  }

  // requester IDs two domains can emit
  const emitters = ridEmitters(p, domainOf);
  findings.push(...aliasConflicts(emitters));

  for (const s of sr.plans) {
    if (s.overflow) {
      findings.push({ code: "sriov-bus-overflow", pf: s.pf, numVfs: s.request.numVfs, vf: s.overflow.index, bus: s.overflow.bus, busLimit: s.busLimit, bridge: s.busLimitBridge });
    }
  }

  const aliasRequests = plan.aliasRequests.map((r) => refuseAliasRequest({ topology, emitters, domainOf, vfSlots }, r));
  const severities = findings.map(findingSeverity);
  const counts: CheckCounts = {
    errors: severities.filter((s) => s === "error").length,
    warnings: severities.filter((s) => s === "warning").length,
    info: severities.filter((s) => s === "info").length,
    refused: aliasRequests.length,
  };
  // a request that were honoured would fail the check; refusal is the only decision there is
  const honoured = aliasRequests.filter((a) => a.decision !== "refused").length;
  const verdict = counts.errors > 0 || honoured > 0 ? "unsafe" : "safe";
  const actions = verdict === "safe" ? buildActions({ topology, guests: plan.guests, resolution: res, sriov: sr.plans }) : undefined;
  return {
    ok: true,
    result: { plan, snapshot: machine, prediction: p, resolution: res, domainOf, findings, sriov: sr.plans, aliasRequests, counts, verdict, actions },
  };
}
