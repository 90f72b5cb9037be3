import type { DecodedConfig } from "../config/decode.js";
import type { ConfigIssue, TopologyIssue } from "../issues.js";
import { PCI_HEADER_TYPE_BRIDGE, PCI_HEADER_TYPE_CARDBUS } from "../regs/header.js";
import {
  PCI_EXP_TYPE_DOWNSTREAM,
  PCI_EXP_TYPE_PCIE_BRIDGE,
  PCI_EXP_TYPE_PCI_BRIDGE,
  PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM,
} from "../regs/express.js";
import { busKey, devId, formatBdf, funcOf, slotOf } from "./address.js";
import type { AcsState, BridgeKind, PciBus, PciFunction, Topology } from "./model.js";

/** one function as a source saw it */
export interface FunctionInput {
  readonly segment: number;
  readonly bus: number;
  readonly devfn: number;
  readonly config: DecodedConfig | undefined;
  /** issues found while reading this function's config */
  readonly configIssues?: readonly ConfigIssue[];
  /** ids as the kernel reports them (sysfs files); preferred, since VFs read 0xffff in config */
  readonly ids?: {
    readonly vendor?: number | undefined;
    readonly device?: number | undefined;
    readonly subsystemVendor?: number | undefined;
    readonly subsystemDevice?: number | undefined;
    readonly classCode?: number | undefined;
    readonly revision?: number | undefined;
  };
  readonly driver?: string | undefined;
  readonly kernelGroup?: number | undefined;
  /** the source says this is a VF of that PF (sysfs `physfn`) */
  readonly physfn?: string | undefined;
  /** the device whose RID this function's DMA uses (behind VMD: the VMD endpoint) */
  readonly realDmaDev?: string | undefined;
}

export interface BuildOptions {
  /** add VFs the SR-IOV capability says are enabled but the source does not show (default true) */
  readonly predictVfs?: boolean;
  /**
   * the functions are what a running kernel found (sysfs, lspci): each one
   * was scanned, whatever the slot rules say. Designs leave it false, so
   * functions the kernel's scan would miss are marked.
   */
  readonly kernelView?: boolean;
  /** `pci=pcie_scan_all`: scan every device number below root and downstream ports */
  readonly pcieScanAll?: boolean;
  /**
   * root buses (`dddd:bb`) in the kernel's scan order, from their ACPI host
   * bridges; roots not listed follow, by segment and bus number
   */
  readonly rootOrder?: readonly string[];
}

interface Work {
  input: FunctionInput;
  bdf: string;
  headerType: number;
  secondary: number | undefined;
  subordinate: number | undefined;
  rawType: number | undefined;
  isVirtfn: boolean;
  physfn: string | undefined;
  predicted: boolean;
}

function bridgeKindOf(headerType: number, isPcie: boolean, type: number): BridgeKind | undefined {
  if (headerType === PCI_HEADER_TYPE_CARDBUS) return "cardbus";
  if (headerType !== PCI_HEADER_TYPE_BRIDGE) return undefined;
  if (!isPcie) return "pci-bridge";
  switch (type) {
    case PCI_EXP_TYPE_ROOT_PORT:
      return "root-port";
    case PCI_EXP_TYPE_UPSTREAM:
      return "upstream-port";
    case PCI_EXP_TYPE_DOWNSTREAM:
      return "downstream-port";
    case PCI_EXP_TYPE_PCI_BRIDGE:
      return "pcie-to-pci";
    case PCI_EXP_TYPE_PCIE_BRIDGE:
      return "pci-to-pcie";
    default:
      return "pcie-bridge-other";
  }
}

function acsStateOf(config: DecodedConfig | undefined): AcsState {
  const acs = config?.acs;
  // an ACS capability with its registers is known even when other parts of the config were not read (a trimmed paste)
  if (acs) return { state: "present", offset: acs.offset, cap: acs.cap, ctrl: acs.ctrl };
  return !config || !config.extendedKnown ? { state: "unknown" } : { state: "absent" };
}

/**
 * Builds the topology model from the functions a source found: buses and
 * their bridges, VFs, the kernel's derived flags and its scan order.
 * Inconsistent input becomes topology issues; nothing throws.
 */
export function buildTopology(inputs: readonly FunctionInput[], opts: BuildOptions = {}): Topology {
  const issues: TopologyIssue[] = [];
  const work = new Map<string, Work>();
  const add = (input: FunctionInput, predicted: boolean): void => {
    const bdf = formatBdf(input.segment, input.bus, input.devfn);
    if (work.has(bdf)) {
      issues.push({ code: "duplicate-bdf", bdf });
      return;
    }
    const c = input.config;
    work.set(bdf, {
      input,
      bdf,
      headerType: c?.headerType ?? 0,
      secondary: c?.bridge?.secondary,
      subordinate: c?.bridge?.subordinate,
      rawType: c?.express?.type,
      isVirtfn: input.physfn !== undefined,
      physfn: input.physfn,
      predicted,
    });
  };
  for (const input of inputs) add(input, false);

  // SR-IOV: mark present VFs, predict absent ones
  for (const pf of [...work.values()]) {
    const sriov = pf.input.config?.sriov;
    // VFs exist only while VF Enable is set; offset 0 would put VF 0 on the PF itself
    if (!sriov || sriov.numVFs === 0 || !sriov.vfEnable || sriov.firstVfOffset === 0 || pf.isVirtfn) continue;
    const pfRid = devId(pf.input.bus, pf.input.devfn);
    for (let i = 0; i < Math.min(sriov.numVFs, sriov.totalVFs || sriov.numVFs); i++) {
      const rid = pfRid + sriov.firstVfOffset + i * sriov.vfStride;
      if (rid > 0xffff) {
        issues.push({ code: "vf-bus-overflow", physfn: pf.bdf, vf: i });
        break;
      }
      const bdf = formatBdf(pf.input.segment, rid >> 8, rid & 0xff);
      const present = work.get(bdf);
      if (present) {
        present.isVirtfn = true;
        present.physfn = pf.bdf;
      } else if (opts.predictVfs !== false) {
        const pc = pf.input.config;
        add(
          {
            segment: pf.input.segment,
            bus: rid >> 8,
            devfn: rid & 0xff,
            config: undefined,
            ids: {
              vendor: pf.input.ids?.vendor ?? pc?.vendor,
              device: sriov.vfDeviceId,
              subsystemVendor: pf.input.ids?.subsystemVendor ?? pc?.subsystemVendor,
              subsystemDevice: pf.input.ids?.subsystemDevice ?? pc?.subsystemDevice,
              classCode: pf.input.ids?.classCode ?? pc?.classCode,
            },
            physfn: pf.bdf,
          },
          true,
        );
        issues.push({ code: "vf-predicted", bdf, physfn: pf.bdf });
      }
    }
  }

  // which bridge creates which bus
  const claims = new Map<string, Work[]>();
  for (const w of work.values()) {
    if (w.secondary === undefined || w.headerType === 0) continue;
    if (w.secondary === 0 && w.subordinate === 0) continue; // unconfigured bridge
    if (w.secondary <= w.input.bus) {
      issues.push({ code: "bus-loop", bdf: w.bdf, bus: w.secondary });
      continue;
    }
    if (w.subordinate !== undefined && w.subordinate < w.secondary) {
      issues.push({ code: "bus-range-invalid", bdf: w.bdf, secondary: w.secondary, subordinate: w.subordinate, primary: w.input.bus });
    }
    const key = busKey(w.input.segment, w.secondary);
    const list = claims.get(key) ?? [];
    list.push(w);
    claims.set(key, list);
  }
  const selfOf = new Map<string, Work>();
  for (const [key, list] of claims) {
    list.sort((a, b) => (a.bdf < b.bdf ? -1 : 1));
    if (list.length > 1) {
      const [segment, bus] = key.split(":").map((x) => parseInt(x, 16)) as [number, number];
      issues.push({ code: "bus-claimed-twice", segment, bus, bridges: list.map((w) => w.bdf) });
    }
    selfOf.set(key, list[0]!);
  }

  // buses that hold functions, plus buses bridges create
  const onBus = new Map<string, Work[]>();
  for (const w of work.values()) {
    const key = busKey(w.input.segment, w.input.bus);
    const list = onBus.get(key) ?? [];
    list.push(w);
    onBus.set(key, list);
  }
  for (const key of selfOf.keys()) if (!onBus.has(key)) onBus.set(key, []);

  // parent links, cutting cycles
  const parentOf = new Map<string, string | undefined>();
  const virtual = new Set<string>();
  for (const [key, list] of onBus) {
    const self = selfOf.get(key);
    if (self) {
      parentOf.set(key, busKey(self.input.segment, self.input.bus));
    } else if (list.length > 0 && list.every((w) => w.isVirtfn && w.physfn !== undefined)) {
      const pf = work.get(list[0]!.physfn!)!;
      const pfBus = busKey(pf.input.segment, pf.input.bus);
      if (pfBus !== key) {
        parentOf.set(key, pfBus);
        virtual.add(key);
      } else parentOf.set(key, undefined);
    } else parentOf.set(key, undefined);
  }
  for (const start of parentOf.keys()) {
    const seen = new Set<string>([start]);
    let cur = start;
    for (;;) {
      const p = parentOf.get(cur);
      if (p === undefined) break;
      if (seen.has(p)) {
        const self = selfOf.get(cur);
        issues.push({ code: "bus-loop", bdf: self?.bdf ?? cur, bus: parseInt(cur.slice(-2), 16) });
        parentOf.set(cur, undefined);
        selfOf.delete(cur);
        break;
      }
      seen.add(p);
      cur = p;
    }
  }

  // bridge ranges: siblings must not overlap, children must sit inside
  for (const [key, list] of onBus) {
    const bridges = list.filter((w) => selfOf.get(busKey(w.input.segment, w.secondary ?? -1)) === w);
    for (let i = 0; i < bridges.length; i++) {
      for (let j = i + 1; j < bridges.length; j++) {
        const a = bridges[i]!;
        const b = bridges[j]!;
        const aEnd = Math.max(a.subordinate ?? a.secondary!, a.secondary!);
        const bEnd = Math.max(b.subordinate ?? b.secondary!, b.secondary!);
        if (a.secondary! <= bEnd && b.secondary! <= aEnd) {
          issues.push({ code: "bus-range-overlap", bdf: a.bdf, other: b.bdf, secondary: b.secondary!, subordinate: bEnd });
        }
      }
    }
    const self = selfOf.get(key);
    if (self && self.subordinate !== undefined) {
      for (const br of bridges) {
        if (br.secondary! > self.subordinate) {
          issues.push({ code: "bus-outside-parent-range", bdf: br.bdf, bus: br.secondary!, parent: self.bdf });
        }
      }
    }
  }

  // corrected PCIe type (set_pcie_port_type), parents first via memo
  const corrected = new Map<string, number | undefined>();
  const upstreamOf = (w: Work): Work | undefined => selfOf.get(busKey(w.input.segment, w.input.bus));
  const typeOf = (w: Work, depth = 0): number | undefined => {
    if (corrected.has(w.bdf)) return corrected.get(w.bdf);
    let t = w.rawType;
    const up = depth < 300 ? upstreamOf(w) : undefined;
    if (t !== undefined && up) {
      const ut = typeOf(up, depth + 1);
      if (t === PCI_EXP_TYPE_DOWNSTREAM && (ut === PCI_EXP_TYPE_ROOT_PORT || ut === PCI_EXP_TYPE_DOWNSTREAM || ut === PCI_EXP_TYPE_PCIE_BRIDGE)) {
        t = PCI_EXP_TYPE_UPSTREAM;
      } else if (t === PCI_EXP_TYPE_UPSTREAM && ut === PCI_EXP_TYPE_UPSTREAM) {
        t = PCI_EXP_TYPE_DOWNSTREAM;
      }
    }
    corrected.set(w.bdf, t);
    return t;
  };

  // ARI forwarding on the bridge above a bus
  const ariBus = (key: string): boolean => selfOf.get(key)?.input.config?.express?.ariForwardingEnabled === true;

  // scan rules (pci_scan_slot, only_one_child)
  const scannedFlag = new Map<string, boolean>();
  for (const [key, list] of onBus) {
    const self = selfOf.get(key);
    const selfType = self ? typeOf(self) : undefined;
    const onlyOneChild = !opts.pcieScanAll && (selfType === PCI_EXP_TYPE_ROOT_PORT || selfType === PCI_EXP_TYPE_DOWNSTREAM);
    const ari = ariBus(key);
    const byDevfn = new Map(list.map((w) => [w.input.devfn, w]));
    for (const w of list) {
      if (w.isVirtfn || opts.kernelView) {
        scannedFlag.set(w.bdf, true);
        continue;
      }
      const d = w.input.devfn;
      let reason: "no-function-0" | "slot-below-port" | "function-0-single" | undefined;
      if (ari) {
        if (!byDevfn.has(0)) reason = "no-function-0";
      } else {
        const fn0 = byDevfn.get(d & ~7);
        if (onlyOneChild && slotOf(d) !== 0) reason = "slot-below-port";
        else if (!fn0 || fn0.isVirtfn) reason = "no-function-0";
        else if (funcOf(d) !== 0 && fn0.input.config !== undefined && !fn0.input.config.multifunctionBit) reason = "function-0-single";
      }
      scannedFlag.set(w.bdf, reason === undefined);
      if (reason) issues.push({ code: "not-scanned", bdf: w.bdf, reason });
    }
  }

  // final records
  const functions = new Map<string, PciFunction>();
  for (const w of [...work.values()].sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0))) {
    const c = w.input.config;
    const ids = w.input.ids ?? {};
    const isPcie = c?.express !== undefined;
    const pcieType = isPcie ? (typeOf(w) ?? 0) : 0;
    const fnNumber = ariBus(busKey(w.input.segment, w.input.bus)) ? w.input.devfn : funcOf(w.input.devfn);
    const multifunction = w.isVirtfn ? false : fnNumber > 0 ? true : (c?.multifunctionBit ?? false);
    const up = upstreamOf(w);
    functions.set(w.bdf, {
      bdf: w.bdf,
      segment: w.input.segment,
      bus: w.input.bus,
      devfn: w.input.devfn,
      vendor: ids.vendor ?? c?.vendor ?? 0xffff,
      device: ids.device ?? c?.device ?? 0xffff,
      subsystemVendor: ids.subsystemVendor ?? c?.subsystemVendor,
      subsystemDevice: ids.subsystemDevice ?? c?.subsystemDevice,
      classCode: ids.classCode ?? c?.classCode ?? 0,
      revision: ids.revision ?? c?.revision,
      headerType: w.headerType,
      multifunction,
      isPcie,
      pcieType,
      pcieTypeRegister: isPcie && w.rawType !== pcieType ? w.rawType : undefined,
      bridgeKind: bridgeKindOf(w.headerType, isPcie, pcieType),
      secondary: w.secondary,
      subordinate: w.subordinate,
      acs: w.predicted ? { state: "absent" } : acsStateOf(c),
      phantomFunctions: c?.express?.phantomFunctions ?? 0,
      isVirtfn: w.isVirtfn,
      physfn: w.physfn,
      predicted: w.predicted,
      scanned: scannedFlag.get(w.bdf) ?? true,
      driver: w.input.driver,
      kernelGroup: w.input.kernelGroup,
      realDmaDev: w.input.realDmaDev,
      upstream: up?.bdf,
      config: c,
      issues: w.input.configIssues ?? c?.issues ?? [],
    });
  }

  const buses = new Map<string, PciBus>();
  for (const [key, list] of onBus) {
    const [segment, number] = key.split(":").map((x) => parseInt(x, 16)) as [number, number];
    buses.set(key, {
      key,
      segment,
      number,
      self: selfOf.get(key)?.bdf,
      parent: parentOf.get(key),
      virtual: virtual.has(key),
      ari: ariBus(key),
      functions: list.map((w) => w.bdf).sort(),
    });
  }

  const rootRank = new Map((opts.rootOrder ?? []).map((k, i) => [k, i]));
  const rankOf = (key: string): number => rootRank.get(key) ?? rootRank.size;
  const roots = [...buses.values()]
    .filter((b) => b.parent === undefined)
    .sort((a, b) => rankOf(a.key) - rankOf(b.key) || a.segment - b.segment || a.number - b.number)
    .map((b) => b.key);

  // scan order: all functions of a bus, then each bridge's subtree (depth first)
  const scanOrder: string[] = [];
  const vfs: string[] = [];
  const visited = new Set<string>();
  const visit = (key: string): void => {
    if (visited.has(key)) return;
    visited.add(key);
    const bus = buses.get(key);
    if (!bus) return;
    const here = bus.functions.map((b) => functions.get(b)!).filter((f) => f.scanned);
    for (const f of here) if (!f.isVirtfn) scanOrder.push(f.bdf);
    for (const f of here) {
      if (f.isVirtfn || f.secondary === undefined) continue;
      const child = busKey(f.segment, f.secondary);
      if (selfOf.get(child)?.bdf === f.bdf) visit(child);
    }
  };
  for (const r of roots) visit(r);
  for (const f of functions.values()) if (f.isVirtfn) vfs.push(f.bdf);
  // VFs appear when SR-IOV is enabled, after the boot scan, PF by PF
  const pfOrder = new Map(scanOrder.map((b, i) => [b, i]));
  vfs.sort((a, b) => {
    const fa = functions.get(a)!;
    const fb = functions.get(b)!;
    return (pfOrder.get(fa.physfn!) ?? 0) - (pfOrder.get(fb.physfn!) ?? 0) || devId(fa.bus, fa.devfn) - devId(fb.bus, fb.devfn);
  });
  scanOrder.push(...vfs);
  return { functions, buses, roots, scanOrder, issues };
}
