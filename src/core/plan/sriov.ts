/**
 * SR-IOV before it is enabled: which VFs `echo N > sriov_numvfs` would
 * create, at which requester IDs (hw-models.md §5.5), and the machine with
 * them in it, so their groups can be predicted like any other function's.
 */
import { parseCmdline } from "../kernel/cmdline.js";
import type { Snapshot } from "../sources/snapshot.js";
import { busKey, devId, formatBdf } from "../topology/address.js";
import { buildTopology } from "../topology/build.js";
import type { PciFunction, Topology } from "../topology/model.js";
import { functionInputsOf, withNumVfs } from "./inputs.js";
import { noFunctionMessage, sriovProblemMessage } from "./messages.js";
import type { PlanProblem, SriovRequest } from "./plan.js";

export interface PlannedVf {
  /** 0-based: VF n of the kernel's `virtfn<n>` */
  readonly index: number;
  readonly bdf: string;
  /** 16-bit requester ID; undefined beyond bus ff */
  readonly rid: number | undefined;
  /** on a bus of its own without a bridge (the PF's bus + carry) */
  readonly virtualBus: boolean;
}

export interface SriovPlan {
  readonly request: SriovRequest;
  readonly pf: string;
  readonly totalVfs: number;
  /** VFs enabled now: NumVFs when VF Enable is set, else 0 */
  readonly currentVfs: number;
  readonly firstVfOffset: number;
  readonly vfStride: number;
  readonly vfDevice: number;
  readonly vfs: readonly PlannedVf[];
  /** the last bus number the PF's bus range allows: the subordinate bus of the bridge above, ff on a root bus */
  readonly busLimit: number;
  readonly busLimitBridge: string | undefined;
  /** the first VF whose requester ID falls beyond busLimit: the kernel refuses the whole write */
  readonly overflow: { readonly index: number; readonly bus: number } | undefined;
}

export type SriovResult =
  | { readonly ok: true; readonly snapshot: Snapshot; readonly plans: readonly SriovPlan[] }
  | { readonly ok: false; readonly problems: readonly PlanProblem[] };

/** all requester IDs SR-IOV could ever give a PF's VFs: TotalVFs of them (for "who would this capture") */
export function potentialVfRids(topology: Topology): Map<string, { pf: string; index: number }> {
  const out = new Map<string, { pf: string; index: number }>();
  for (const f of topology.functions.values()) {
    const s = f.config?.sriov;
    if (!s || f.isVirtfn || s.firstVfOffset === 0) continue;
    const base = devId(f.bus, f.devfn) + s.firstVfOffset;
    for (let i = 0; i < s.totalVFs; i++) {
      const rid = base + i * s.vfStride;
      if (rid > 0xffff) break;
      out.set(formatBdf(f.segment, rid >> 8, rid & 0xff), { pf: f.bdf, index: i });
    }
  }
  return out;
}

function planFor(topology: Topology, pf: PciFunction, request: SriovRequest): SriovPlan {
  const s = pf.config!.sriov!;
  const pfRid = devId(pf.bus, pf.devfn);
  const bridge = topology.buses.get(busKey(pf.segment, pf.bus))?.self;
  const br = bridge === undefined ? undefined : topology.functions.get(bridge);
  const busLimit = br?.subordinate ?? 0xff;
  const vfs: PlannedVf[] = [];
  let overflow: SriovPlan["overflow"];
  for (let i = 0; i < request.numVfs; i++) {
    // iov.c: bus = pf bus + ((pf devfn + offset + stride * id) >> 8), devfn = the low 8 bits
    const raw = pfRid + s.firstVfOffset + i * s.vfStride;
    const bus = raw >> 8;
    if (overflow === undefined && bus > busLimit) overflow = { index: i, bus };
    vfs.push({
      index: i,
      bdf: formatBdf(pf.segment, bus & 0xff, raw & 0xff),
      rid: raw > 0xffff ? undefined : raw,
      virtualBus: bus !== pf.bus,
    });
  }
  return {
    request,
    pf: pf.bdf,
    totalVfs: s.totalVFs,
    currentVfs: s.vfEnable ? s.numVFs : 0,
    firstVfOffset: s.firstVfOffset,
    vfStride: s.vfStride,
    vfDevice: s.vfDeviceId,
    vfs,
    busLimit,
    busLimitBridge: br?.bdf,
    overflow,
  };
}

/**
 * Checks the plan's `sriov` entries against the machine and rebuilds the
 * topology with each PF's NumVFs changed. `label` names the source in
 * problems. With no entries the snapshot comes back unchanged.
 */
export function applySriov(snapshot: Snapshot, requests: readonly SriovRequest[], label: string): SriovResult {
  if (requests.length === 0) return { ok: true, snapshot, plans: [] };
  const topology = snapshot.topology;
  const problems: PlanProblem[] = [];
  const plans: SriovPlan[] = [];
  for (const r of requests) {
    const at = { line: r.line, path: r.path };
    const pf = topology.functions.get(r.pf);
    if (!pf) {
      problems.push({ ...at, message: noFunctionMessage(r.pf, label, undefined) });
      continue;
    }
    const s = pf.config?.sriov;
    if (pf.isVirtfn) problems.push({ ...at, message: sriovProblemMessage({ code: "is-vf", pf: pf.bdf, physfn: pf.physfn }) });
    else if (!s) problems.push({ ...at, message: sriovProblemMessage({ code: pf.config?.extendedKnown === false || !pf.config ? "not-read" : "no-sriov", pf: pf.bdf }) });
    else if (s.totalVFs === 0) problems.push({ ...at, message: sriovProblemMessage({ code: "no-vfs", pf: pf.bdf }) });
    else if (r.numVfs > s.totalVFs) problems.push({ ...at, message: sriovProblemMessage({ code: "too-many", pf: pf.bdf, asked: r.numVfs, total: s.totalVFs }) });
    else if (r.numVfs > 0 && (s.firstVfOffset === 0 || (r.numVfs > 1 && s.vfStride === 0))) {
      problems.push({ ...at, message: sriovProblemMessage({ code: "no-routing", pf: pf.bdf, offset: s.firstVfOffset, stride: s.vfStride }) });
    } else plans.push(planFor(topology, pf, r));
  }
  if (problems.length > 0) return { ok: false, problems };

  const byPf = new Map(plans.map((p) => [p.pf, p]));
  const inputs = functionInputsOf(topology).flatMap((input) => {
    const bdf = formatBdf(input.segment, input.bus, input.devfn);
    const plan = byPf.get(bdf);
    if (plan) return [withNumVfs(input, plan.request.numVfs) ?? input];
    // a VF the source showed stays only while the new count still creates it
    const parent = input.physfn === undefined ? undefined : byPf.get(input.physfn);
    if (parent && !parent.vfs.some((v) => v.bdf === bdf)) return [];
    return [input];
  });
  return { ok: true, snapshot: { ...snapshot, topology: buildTopology(inputs, { kernelView: snapshot.source !== "design", pcieScanAll: parseCmdline(snapshot.cmdline ?? "").pcieScanAll }) }, plans };
}
