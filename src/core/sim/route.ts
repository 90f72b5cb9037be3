/**
 * One transaction, hop by hop (hw-models.md §5, §6.2): the requester ID at
 * the source (own, phantom, VF routing ID), upward through the bridges
 * (ownership by PCIe-to-PCI and conventional bridges, ACS Source
 * Validation at downstream and root ports, ACS P2P Request Redirect where
 * a peer is reachable), the root complex's IOMMU lookup and page walk,
 * down to a BAR or an NT window, across the NTB (requester-ID table,
 * window translation, proxy ID) and on in the peer host.
 */
import { PCI_ACS_CR, PCI_ACS_RR, PCI_ACS_SV } from "../regs/acs.js";
import { PCI_EXP_TYPE_PCIE_BRIDGE, PCI_EXP_TYPE_PCI_BRIDGE } from "../regs/express.js";
import { busKey, devId, devfnOf, funcOf, slotOf } from "../topology/address.js";
import type { PciBus, PciFunction } from "../topology/model.js";
import type { SimTransaction, SimulationParts } from "./build.js";
import { acsViolationLines, amdLogLines, smmuLogLines, vfBusRangeLine, vtdLogLines, vtdRecord } from "./fault-log.js";
import type { FaultRecord } from "./fault-log.js";
import { bridgesAbove, busOf, busWithin, claimAt, functionAt, portKind } from "./host.js";
import type { RefusedVfs, SimHost } from "./host.js";
import type { Claim, DropReason, Outcome, Step, TlpResult } from "./outcome.js";

/** NTB crossings one request may make before it is taken for a loop */
const MAX_CROSSINGS = 4;

interface Flow {
  readonly parts: SimulationParts;
  readonly tx: SimTransaction;
  readonly steps: Step[];
  crossings: number;
  translated: boolean;
  domain: string | undefined;
}

const dropped = (host: SimHost, at: string, rid: number, address: number, reason: DropReason, log: readonly string[] = []): Outcome => ({
  kind: "dropped",
  host: host.name,
  at,
  rid,
  address,
  reason,
  log,
});

/** runs one transaction through the simulation's hosts and switch */
export function runTransaction(parts: SimulationParts, tx: SimTransaction): TlpResult {
  const flow: Flow = { parts, tx, steps: [], crossings: 0, translated: false, domain: undefined };
  const outcome = issue(flow);
  return {
    index: tx.index,
    name: tx.name,
    host: tx.host.name,
    from: tx.from,
    access: tx.access,
    address: tx.address,
    size: tx.size,
    steps: flow.steps,
    outcome,
  };
}

/** the source and its requester ID (hw-models §5.3–5.5) */
function issue(flow: Flow): Outcome {
  const { tx, steps } = flow;
  const host = tx.host;
  const t = host.prediction.topology;
  const base = { host: host.name, access: tx.access, address: tx.address, size: tx.size };
  const src = tx.source;
  if (src.kind === "cpu") {
    steps.push({ code: "issue", ...base, bdf: undefined, rid: src.rid, ari: false });
    return fromRootComplex(flow, host, src.rid, tx.address, false);
  }

  let start: PciFunction;
  let rid: number;
  if (src.kind === "vf") {
    const sriov = src.pf.config!.sriov!;
    const vf = t.functions.get(src.bdf);
    const refused = host.refusedVfs.get(src.bdf);
    const enabled = vf !== undefined && !refused && sriov.vfEnable && src.vf <= sriov.numVFs;
    if (!enabled && !tx.force) return notIssued(host, src.bdf, refused, src.pf);
    rid = src.rid;
    steps.push({ code: "issue", ...base, bdf: src.bdf, rid, ari: busOf(t, src.pf)?.ari ?? false });
    steps.push({
      code: "vf-rid",
      host: host.name,
      pf: src.pf.bdf,
      vf: src.vf,
      offset: sriov.firstVfOffset,
      stride: sriov.vfStride,
      rid,
      virtualBus: rid >> 8 !== src.pf.bus,
      forced: !enabled,
    });
    start = src.pf; // a VF sits on its PF's link, whatever bus its routing ID names
  } else {
    const fn = src.fn;
    const refused = fn.isVirtfn ? host.refusedVfs.get(fn.bdf) : undefined;
    if (refused && !tx.force) return notIssued(host, fn.bdf, refused, t.functions.get(refused.pf));
    rid = devId(fn.bus, fn.devfn);
    steps.push({ code: "issue", ...base, bdf: fn.bdf, rid, ari: busOf(t, fn)?.ari ?? false });
    if (tx.phantom !== undefined) {
      // DevCap Phantom Functions Supported: the top `bits` bits of the function number are free for tags
      const bits = fn.phantomFunctions;
      const low = funcOf(fn.devfn) & ((1 << (3 - bits)) - 1);
      rid = devId(fn.bus, devfnOf(slotOf(fn.devfn), (tx.phantom << (3 - bits)) | low));
      steps.push({ code: "phantom", host: host.name, bdf: fn.bdf, phantomBits: bits, phantom: tx.phantom, rid });
    }
    start = fn.isVirtfn && fn.physfn !== undefined ? (t.functions.get(fn.physfn) ?? fn) : fn;
  }
  if (tx.forgedRid !== undefined) {
    rid = tx.forgedRid;
    steps.push({ code: "forged-rid", host: host.name, bdf: src.kind === "vf" ? src.bdf : src.fn.bdf, rid });
  }
  return upward(flow, host, start, rid, tx.address);
}

function notIssued(host: SimHost, bdf: string, refused: RefusedVfs | undefined, pf: PciFunction | undefined): Outcome {
  if (refused) {
    return { kind: "not-issued", host: host.name, at: bdf, reason: "vf-refused", log: [vfBusRangeLine(refused.pf, pf?.driver, refused.count, refused.bus, refused.start, refused.end)] };
  }
  return { kind: "not-issued", host: host.name, at: bdf, reason: "vf-not-enabled", log: [] };
}

/** how a bridge rewrites the requester ID of a request from its secondary side (hw-models §5.2), or undefined */
function ownership(host: SimHost, br: PciFunction, bus: PciBus): { rule: "pcie-to-pci" | "pci-to-pcie" | "pci-bridge" | "pcie-bridge-alias"; rid: number } | undefined {
  const secondary = br.secondary ?? bus.number;
  if (br.isPcie) {
    // PCIe-to-PCI/PCI-X Bridge spec 1.0 §2.3: conventional PCI carries no requester ID; the bridge owns the request as (secondary, 00.0)
    if (br.pcieType === PCI_EXP_TYPE_PCI_BRIDGE) return { rule: "pcie-to-pci", rid: devId(secondary, 0) };
    if (br.pcieType === PCI_EXP_TYPE_PCIE_BRIDGE) return { rule: "pci-to-pcie", rid: devId(br.bus, br.devfn) };
    return undefined;
  }
  if (br.headerType !== 1) return undefined;
  // a conventional bridge issues the request upstream itself; one that hides its PCIe capability behaves as a PCIe-to-PCI bridge
  if (host.prediction.props(br.bdf).pcieBridgeAlias) return { rule: "pcie-bridge-alias", rid: devId(secondary, 0) };
  return { rule: "pci-bridge", rid: devId(br.bus, br.devfn) };
}

/** the ACS Control value the kernel left on a function, and whether SV is on */
function acsCtrlOf(host: SimHost, fn: PciFunction): number | undefined {
  if (fn.acs.state !== "present") return undefined;
  return host.acsCtrl.get(fn.bdf) ?? fn.acs.ctrl;
}

/** from `fn`'s bus up to the root complex, deciding at each bridge */
function upward(flow: Flow, host: SimHost, fn: PciFunction, rid0: number, address: number): Outcome {
  const { steps } = flow;
  const t = host.prediction.topology;
  const acs = host.prediction.acs;
  let rid = rid0;
  let bus = busOf(t, fn);
  const target = claimAt(host, address);
  const targetFn = target && target.bdf !== fn.bdf ? t.functions.get(target.bdf) : undefined;
  const targetBus = targetFn && busKey(targetFn.segment, targetFn.bus);

  // a peer on the source's own bus (another function of the device, or a conventional PCI bus)
  if (bus && targetFn && targetBus && busWithin(t, targetBus, bus.key)) {
    const verdict = fn.isPcie ? acs.enabled(fn, PCI_ACS_RR) : undefined;
    const decision = verdict?.enabled ? "redirect" : "direct";
    steps.push({ code: "p2p", host: host.name, bdf: fn.bdf, target: targetFn.bdf, decision, reason: verdict?.reason });
    if (decision === "direct") return down(flow, host, target!, bus.key, rid, address, false);
  }

  for (let guard = 0; bus && guard < 512; guard++) {
    if (bus.parent === undefined) break; // the root bus: the root complex
    if (bus.self === undefined) {
      bus = t.buses.get(bus.parent); // a VF's virtual bus has no bridge
      continue;
    }
    const br = t.functions.get(bus.self);
    if (!br) break;
    const kind = portKind(br);
    const own = ownership(host, br, bus);
    if (own) {
      steps.push({ code: "ownership", host: host.name, bdf: br.bdf, rule: own.rule, from: rid, rid: own.rid });
      rid = own.rid;
    }
    const ctrl = acsCtrlOf(host, br);
    if (kind === "root-port" || kind === "downstream-port") {
      const secondary = br.secondary ?? bus.number;
      const subordinate = br.subordinate ?? secondary;
      const enabled = ctrl !== undefined && br.acs.state === "present" && (br.acs.cap & PCI_ACS_SV) !== 0 && (ctrl & PCI_ACS_SV) !== 0;
      const ridBus = rid >> 8;
      const pass = !enabled || (ridBus >= secondary && ridBus <= subordinate);
      steps.push({ code: "acs-sv", host: host.name, bdf: br.bdf, rid, secondary, subordinate, enabled, pass });
      if (!pass) return dropped(host, br.bdf, rid, address, "acs-violation", acsViolationLines(br.bdf, br.vendor, br.device));
    }
    steps.push({ code: "forward-up", host: host.name, bdf: br.bdf, port: kind, rid, acsCtrl: ctrl });
    const next = busOf(t, br);
    if (!next) break;
    if (targetFn && targetBus && busWithin(t, targetBus, next.key) && !busWithin(t, targetBus, bus.key) && next.parent !== undefined) {
      // PCIe 6.12.1.1 / pci_acs_enabled: RR on the ingress port sends a peer request up to the root complex
      const verdict = acs.enabled(br, PCI_ACS_RR);
      const decision = verdict.enabled ? "redirect" : "direct";
      steps.push({ code: "p2p", host: host.name, bdf: br.bdf, target: targetFn.bdf, decision, reason: verdict.reason });
      if (decision === "direct") return down(flow, host, target!, next.key, rid, address, false);
    }
    bus = next;
  }
  return rootComplex(flow, host, fn.segment, rid, address);
}

/** the IOMMU of the root complex, then memory or a BAR below */
function rootComplex(flow: Flow, host: SimHost, segment: number, rid: number, address: number): Outcome {
  const { steps, tx } = flow;
  const machine = host.machine;
  let result = address;
  if (!machine) {
    steps.push({ code: "no-iommu", host: host.name, rid, address });
  } else {
    const out = machine.translate(rid, address, tx.access, host.translation, segment);
    let root: boolean | undefined;
    let context: boolean | undefined;
    if (machine.arch === "vtd") {
      const unit = machine.vtdUnit(out.unit);
      root = unit?.rootPresent(rid);
      context = unit?.contextPresent(rid);
    } else if (machine.arch === "amd") {
      context = machine.amdTable(segment)?.isProgrammed(rid);
    }
    steps.push({
      code: "iommu",
      host: host.name,
      unit: out.unit,
      arch: machine.arch,
      rid,
      address,
      ok: out.ok,
      result: out.address,
      passThrough: out.passThrough,
      domain: out.domain?.name,
      domainId: out.domainId,
      fault: out.fault,
      root,
      context,
      streamId: out.streamId,
    });
    if (!out.ok) return faulted(host, segment, rid, address, tx.access);
    flow.translated = true;
    flow.domain = out.domain?.name;
    result = out.address;
  }
  return fromRootComplex(flow, host, rid, result, true);
}

/**
 * A request the root complex routes by address: to a BAR or NT window
 * below, or to memory. `peer`: it came up from a device, so reaching a
 * BAR is peer-to-peer through the root complex.
 */
function fromRootComplex(flow: Flow, host: SimHost, rid: number, address: number, peer: boolean): Outcome {
  const claim = claimAt(host, address);
  if (!claim) return { kind: "delivered", host: host.name, to: "memory", address, rid, translated: flow.translated, domain: flow.domain };
  if (peer && !host.rootComplexP2p) return dropped(host, "root complex", rid, address, "rc-no-p2p");
  return down(flow, host, claim, "", rid, address, true);
}

/** routed down to the function that holds `claim`, from bus `from` (or from the root complex) */
function down(flow: Flow, host: SimHost, claim: Claim, from: string, rid: number, address: number, viaRootComplex: boolean): Outcome {
  const { steps, tx } = flow;
  const t = host.prediction.topology;
  const fn = t.functions.get(claim.bdf)!;
  const bridges = bridgesAbove(t, fn).filter((br) => viaRootComplex || busWithin(t, busKey(br.segment, br.bus), from));
  steps.push({ code: "route-down", host: host.name, path: [...bridges.map((b) => b.bdf), fn.bdf], claim, viaRootComplex });
  if (tx.access === "read" && !viaRootComplex) {
    // the completion goes back the other way: CR on the completer's port may send it up instead
    const port = bridges[bridges.length - 1];
    if (port && (portKind(port) === "downstream-port" || portKind(port) === "root-port")) {
      const verdict = host.prediction.acs.enabled(port, PCI_ACS_CR);
      steps.push({ code: "p2p-completion", host: host.name, bdf: port.bdf, decision: verdict.enabled ? "redirect" : "direct", reason: verdict.reason });
    }
  }
  if (claim.kind === "bar") return { kind: "delivered", host: host.name, to: claim.bdf, address, rid, translated: flow.translated, domain: flow.domain };
  return cross(flow, host, claim, rid, address);
}

/** through the NTB: window translation, requester-ID table, proxy ID, out of the peer's NT endpoint */
function cross(flow: Flow, host: SimHost, claim: Extract<Claim, { kind: "nt-window" }>, rid: number, address: number): Outcome {
  const { steps, parts, tx } = flow;
  const ntb = parts.ntb!;
  if (++flow.crossings > MAX_CROSSINGS) return dropped(host, claim.bdf, rid, address, "routing-loop");
  const part = ntb.partitions.get(claim.partition)!;
  const w = part.windows[claim.window]!;
  // hw-models §6.2 step 6: the ingress partition's requester-ID table first, then the window
  const slot = ntb.admit(part, rid);
  const registered = part.slots.filter((s) => s.enabled && s.rid !== undefined).map((s) => s.rid!);
  steps.push({ code: "ntb-requester", host: "ntb", partition: part.id, rid, slot: slot?.index, proxy: slot?.proxy, registered });
  if (!slot) return dropped(host, `ntb partition ${part.id}`, rid, address, "ntb-requester-not-registered");
  const offset = address - w.base;
  const hit = ntb.translate(w, offset);
  steps.push({ code: "ntb-window", host: "ntb", partition: part.id, kind: w.kind, bar: w.bar, offset, lutIndex: hit.lutIndex, enabled: hit.enabled, target: hit.target, address: hit.address });
  if (!hit.enabled) return dropped(host, `ntb partition ${part.id}`, rid, address, "ntb-lut-entry-disabled");
  const dest = ntb.partitions.get(hit.target)!;
  const destHost = parts.hosts.find((h) => h.name === dest.host)!;
  const proxyRid = devId(dest.ntBus, slot.proxy);
  steps.push({ code: "ntb-egress", host: destHost.name, bdf: dest.nt, partition: dest.id, rid: proxyRid, address: hit.address });
  const nt = destHost.prediction.topology.functions.get(dest.nt)!;
  const outcome = upward(flow, destHost, nt, proxyRid, hit.address);
  if (tx.access === "read" && outcome.kind === "delivered") steps.push({ code: "ntb-completion", host: "ntb", partition: part.id, proxy: slot.proxy, rid });
  return outcome;
}

/** the fault record the unit writes and the lines Linux prints for it */
function faulted(host: SimHost, segment: number, rid: number, address: number, access: "read" | "write"): Outcome {
  const out = host.translation;
  const fault = out.fault!;
  const machine = host.machine!;
  let record: FaultRecord | undefined;
  let log: string[] = [];
  if (fault.arch === "vtd") {
    const earlier = host.faultCount.get(out.unit) ?? 0;
    host.faultCount.set(out.unit, earlier + 1);
    const r = vtdRecord(out.unit, segment, rid, address, access, fault, earlier);
    record = r;
    log = vtdLogLines(r, fault, host.logFormat!);
  } else if (fault.arch === "amd") {
    const known = functionAt(host.prediction.topology, segment, rid);
    const device = known && machine.unitOf(known.bdf) && "unit" in machine.unitOf(known.bdf)! ? { bdf: known.bdf, driver: known.driver } : undefined;
    const r = { arch: "amd" as const, unit: out.unit, segment, code: fault.code, devid: rid & 0xffff, domainId: out.domainId, address, flags: out.flags, device };
    record = r;
    log = amdLogLines(r, fault, host.logFormat!);
  } else if (fault.arch === "smmu") {
    const r = { arch: "smmu" as const, unit: out.unit, id: fault.code, sid: out.streamId >= 0 ? out.streamId : rid & 0xffff, iova: address, access };
    record = r;
    log = smmuLogLines(r);
  }
  return { kind: "faulted", host: host.name, unit: out.unit, rid, address, fault, record, log };
}
