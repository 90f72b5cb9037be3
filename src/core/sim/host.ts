/**
 * One simulated machine: its topology and the kernel's view of it (a
 * Prediction), its IOMMU as programmed (an IommuMachine), the address
 * ranges peer requests can hit, and the helpers the router walks the bus
 * tree with.
 */
import type { Prediction } from "../iommu/predict.js";
import type { KernelVersion } from "../kernel/version.js";
import type { IommuArch } from "../program/faults.js";
import { Translation } from "../program/faults.js";
import type { IommuMachine } from "../program/machine.js";
import type { Snapshot } from "../sources/snapshot.js";
import { busKey, devId, formatBdf } from "../topology/address.js";
import type { PciBus, PciFunction, Topology } from "../topology/model.js";
import type { LogFormat } from "./fault-log.js";
import type { Claim, PortKind } from "./outcome.js";

/** VFs Linux refused to enable because the last one's bus is past the PF bus's range (drivers/pci/iov.c) */
export interface RefusedVfs {
  readonly pf: string;
  readonly count: number;
  /** the last VF's bus */
  readonly bus: number;
  /** the PF bus's range (busn_res) */
  readonly start: number;
  readonly end: number;
}

export interface SimHost {
  readonly name: string;
  readonly index: number;
  readonly snapshot: Snapshot;
  readonly prediction: Prediction;
  readonly kernel: KernelVersion;
  readonly arch: IommuArch | "none";
  /** undefined when the host has no IOMMU */
  readonly machine: IommuMachine | undefined;
  readonly logFormat: LogFormat | undefined;
  readonly rootComplexP2p: boolean;
  /** ACS Control per function as the kernel left it, scenario overrides included */
  readonly acsCtrl: ReadonlyMap<string, number>;
  /** BARs and NT windows, sorted by base */
  readonly claims: readonly Claim[];
  /** by VF BDF */
  readonly refusedVfs: ReadonlyMap<string, RefusedVfs>;
  /** what the kernel printed at boot about the setup (quirk warnings, refused VFs) */
  readonly bootLog: readonly string[];
  /** faults each VT-d unit has recorded (the next record index) */
  readonly faultCount: Map<string, number>;
  /** reused for every translation on this host */
  readonly translation: Translation;
}

export const newTranslation = (): Translation => new Translation();

export function busOf(t: Topology, fn: PciFunction): PciBus | undefined {
  return t.buses.get(busKey(fn.segment, fn.bus));
}

/** the function a requester ID names on a segment, if any */
export function functionAt(t: Topology, segment: number, rid: number): PciFunction | undefined {
  return t.functions.get(formatBdf(segment, rid >> 8, rid & 0xff));
}

/** true when bus `inner` is `outer` or lies below it */
export function busWithin(t: Topology, inner: string, outer: string): boolean {
  let key: string | undefined = inner;
  for (let guard = 0; key !== undefined && guard < 512; guard++) {
    if (key === outer) return true;
    key = t.buses.get(key)?.parent;
  }
  return false;
}

/** the bridges from the root bus down to `fn`'s bus (each bus's self), outermost first */
export function bridgesAbove(t: Topology, fn: PciFunction): PciFunction[] {
  const out: PciFunction[] = [];
  let bus = busOf(t, fn);
  for (let guard = 0; bus && guard < 512; guard++) {
    if (bus.self !== undefined) {
      const br = t.functions.get(bus.self);
      if (br) out.unshift(br);
    }
    bus = bus.parent === undefined ? undefined : t.buses.get(bus.parent);
  }
  return out;
}

/** the port kind the router needs, from the topology's bridge kind */
export function portKind(fn: PciFunction): PortKind {
  switch (fn.bridgeKind) {
    case "root-port":
    case "upstream-port":
    case "downstream-port":
    case "pcie-to-pci":
    case "pci-to-pcie":
    case "pci-bridge":
      return fn.bridgeKind;
    default:
      return "other";
  }
}

/** the claim (BAR or NT window) holding [address, address + size), if any */
export function claimAt(host: SimHost, address: number): Claim | undefined {
  for (const c of host.claims) if (address >= c.base && address < c.base + c.size) return c;
  return undefined;
}

/** true for a host bridge on a root bus: its "DMA" is the CPU's */
export function isHostBridge(t: Topology, fn: PciFunction): boolean {
  return fn.classCode >> 8 === 0x0600 && busOf(t, fn)?.parent === undefined;
}

/**
 * sriov_enable's bus check for every PF with VFs: the last VF's bus must
 * lie within the PF bus's range, or Linux enables none of them.
 */
export function refusedVfsOf(t: Topology): Map<string, RefusedVfs> {
  const out = new Map<string, RefusedVfs>();
  for (const pf of t.functions.values()) {
    const sriov = pf.config?.sriov;
    if (!sriov || pf.isVirtfn || sriov.numVFs === 0) continue;
    const last = devId(pf.bus, pf.devfn) + sriov.firstVfOffset + (sriov.numVFs - 1) * sriov.vfStride;
    if (last > 0xffff) continue; // an invalid configuration, refused when the scenario is built
    const bus = busOf(t, pf);
    const self = bus?.self === undefined ? undefined : t.functions.get(bus.self);
    // a root bus's range is the host bridge's, which a topology does not record: take it as ending at ff
    const start = pf.bus;
    const end = self?.subordinate ?? 0xff;
    if (last >> 8 <= end) continue;
    const refused: RefusedVfs = { pf: pf.bdf, count: sriov.numVFs, bus: last >> 8, start: self?.secondary ?? start, end };
    for (let i = 0; i < sriov.numVFs; i++) {
      const rid = devId(pf.bus, pf.devfn) + sriov.firstVfOffset + i * sriov.vfStride;
      out.set(formatBdf(pf.segment, rid >> 8, rid & 0xff), refused);
    }
  }
  return out;
}
