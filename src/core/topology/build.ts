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
import { NONE, keepDense } from "./dense.js";
import { FunctionTable } from "./function-table.js";
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

/** a function while the model is built; numbers, not strings, key everything here */
interface Work {
  input: FunctionInput;
  bdf: string;
  /** (segment, bus, devfn) as one number that sorts like the BDF */
  key: number;
  /** (segment, bus) of the function's own bus as one number */
  busNo: number;
  headerType: number;
  secondary: number | undefined;
  subordinate: number | undefined;
  rawType: number | undefined;
  isVirtfn: boolean;
  physfn: string | undefined;
  predicted: boolean;
  /** set_pcie_port_type's answer, once known (null: not yet) */
  corrected: number | undefined | null;
  scanned: boolean;
  /** position in the boot scan, for ordering VFs by their PF */
  order: number;
  record: PciFunction | undefined;
  /** position in the final function list (the dense topology's index) */
  index: number;
}

// small integers (segment ≤ 0xffff, bus and devfn ≤ 0xff) pack into one number that sorts like the
// BDF text; anything else (a bad source) gets a wide number above them all, still distinct
const PLAIN = 0x1_0000_0000;
const RADIX = 0x10000;
const plain = (segment: number, bus: number): boolean => segment >= 0 && segment <= 0xffff && bus >= 0 && bus <= 0xff && Number.isInteger(segment) && Number.isInteger(bus);
const busNoOf = (segment: number, bus: number): number => (plain(segment, bus) ? segment * 0x100 + bus : PLAIN + segment * RADIX + bus);
const keyOf = (segment: number, bus: number, devfn: number): number =>
  plain(segment, bus) && devfn >= 0 && devfn <= 0xff && Number.isInteger(devfn) ? (segment * 0x100 + bus) * 0x100 + devfn : PLAIN + (segment * RADIX + bus) * RADIX + devfn;
const segmentOfBus = (busNo: number): number => (busNo < PLAIN ? Math.floor(busNo / 0x100) : Math.floor((busNo - PLAIN) / RADIX));
const numberOfBus = (busNo: number): number => (busNo < PLAIN ? busNo % 0x100 : (busNo - PLAIN) % RADIX);

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

const ACS_ABSENT: AcsState = { state: "absent" };
const ACS_UNKNOWN: AcsState = { state: "unknown" };

/** one AcsState per distinct register set in a build, shared by the functions that show it */
function acsStateOf(config: DecodedConfig | undefined, seen: Map<string, AcsState>): AcsState {
  const acs = config?.acs;
  // an ACS capability with its registers is known even when other parts of the config were not read (a trimmed paste)
  if (!acs) return !config || !config.extendedKnown ? ACS_UNKNOWN : ACS_ABSENT;
  const key = `${acs.offset}/${acs.cap}/${acs.ctrl}`;
  let state = seen.get(key);
  if (!state) {
    state = { state: "present", offset: acs.offset, cap: acs.cap, ctrl: acs.ctrl };
    seen.set(key, state);
  }
  return state;
}

/**
 * Builds the topology model from the functions a source found: buses and
 * their bridges, VFs, the kernel's derived flags and its scan order.
 * Inconsistent input becomes topology issues; nothing throws.
 */
export function buildTopology(inputs: readonly FunctionInput[], opts: BuildOptions = {}): Topology {
  const issues: TopologyIssue[] = [];
  // the functions in the order added; by number too once they stop arriving in ascending order
  const works: Work[] = [];
  let byKey: Map<number, Work> | undefined;
  let lastKey = -1;
  // BDF text sorts like the numeric key while every part has its usual width
  let plainNumbers = true;
  const find = (key: number): Work | undefined => {
    if (byKey) return byKey.get(key);
    // (ascending keys hold no NaN: a NaN key switches to the map)
    if (Number.isNaN(key)) return undefined;
    // still ascending: a binary search over what was added
    let lo = 0;
    let hi = works.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = works[mid]!.key;
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return works[mid];
    }
    return undefined;
  };
  const add = (input: FunctionInput, predicted: boolean): void => {
    const key = keyOf(input.segment, input.bus, input.devfn);
    if (!byKey && !(key > lastKey)) byKey = new Map(works.map((x) => [x.key, x]));
    const existing = byKey ? byKey.get(key) : undefined;
    const bdf = formatBdf(input.segment, input.bus, input.devfn);
    if (existing !== undefined) {
      issues.push({ code: "duplicate-bdf", bdf });
      return;
    }
    if (key >= PLAIN) plainNumbers = false;
    const c = input.config;
    const bridge = c?.bridge;
    const w: Work = {
      input,
      bdf,
      key,
      busNo: busNoOf(input.segment, input.bus),
      headerType: c?.headerType ?? 0,
      secondary: bridge?.secondary,
      subordinate: bridge?.subordinate,
      rawType: c?.express?.type,
      isVirtfn: input.physfn !== undefined,
      physfn: input.physfn,
      predicted,
      corrected: null,
      scanned: true,
      order: 0,
      record: undefined,
      index: -1,
    };
    byKey?.set(key, w);
    works.push(w);
    if (key > lastKey) lastKey = key;
  };
  for (const input of inputs) add(input, false);
  const byBdfText = (): Map<string, Work> => {
    byBdf ??= new Map(works.map((w) => [w.bdf, w]));
    return byBdf;
  };
  let byBdf: Map<string, Work> | undefined;

  // SR-IOV: mark present VFs, predict absent ones
  for (let pfIndex = 0, added = works.length; pfIndex < added; pfIndex++) {
    const pf = works[pfIndex]!;
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
      const present = find(keyOf(pf.input.segment, rid >> 8, rid & 0xff));
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
        issues.push({ code: "vf-predicted", bdf: formatBdf(pf.input.segment, rid >> 8, rid & 0xff), physfn: pf.bdf });
      }
    }
  }
  const byBdfOrder = (a: Work, b: Work): number => (plainNumbers ? a.key - b.key : a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0);

  // which bridge creates which bus
  const claims = new Map<number, Work[]>();
  for (const w of works) {
    if (w.secondary === undefined || w.headerType === 0) continue;
    if (w.secondary === 0 && w.subordinate === 0) continue; // unconfigured bridge
    if (w.secondary <= w.input.bus) {
      issues.push({ code: "bus-loop", bdf: w.bdf, bus: w.secondary });
      continue;
    }
    if (w.subordinate !== undefined && w.subordinate < w.secondary) {
      issues.push({ code: "bus-range-invalid", bdf: w.bdf, secondary: w.secondary, subordinate: w.subordinate, primary: w.input.bus });
    }
    const key = busNoOf(w.input.segment, w.secondary);
    const list = claims.get(key);
    if (list) list.push(w);
    else claims.set(key, [w]);
  }
  const selfOf = new Map<number, Work>();
  for (const [key, list] of claims) {
    if (list.length > 1) {
      list.sort(byBdfOrder);
      issues.push({ code: "bus-claimed-twice", segment: segmentOfBus(key), bus: numberOfBus(key), bridges: list.map((w) => w.bdf) });
    }
    selfOf.set(key, list[0]!);
  }

  // buses that hold functions, plus buses bridges create
  const onBus = new Map<number, Work[]>();
  for (const w of works) {
    const list = onBus.get(w.busNo);
    if (list) list.push(w);
    else onBus.set(w.busNo, [w]);
  }
  for (const key of selfOf.keys()) if (!onBus.has(key)) onBus.set(key, []);

  // parent links, cutting cycles
  const parentOf = new Map<number, number | undefined>();
  const virtual = new Set<number>();
  for (const [key, list] of onBus) {
    const self = selfOf.get(key);
    if (self) {
      parentOf.set(key, self.busNo);
    } else if (list.length > 0 && list.every((w) => w.isVirtfn && w.physfn !== undefined)) {
      const pf = byBdfText().get(list[0]!.physfn!);
      if (pf !== undefined && pf.busNo !== key) {
        parentOf.set(key, pf.busNo);
        virtual.add(key);
      } else parentOf.set(key, undefined);
    } else parentOf.set(key, undefined);
  }
  // a bus whose chain reached a root is done; only the rest are walked
  const reachesRoot = new Set<number>();
  for (const start of parentOf.keys()) {
    const seen = new Set<number>([start]);
    let cur = start;
    for (;;) {
      const p = parentOf.get(cur);
      if (p === undefined || reachesRoot.has(p)) {
        for (const b of seen) reachesRoot.add(b);
        break;
      }
      if (seen.has(p)) {
        const self = selfOf.get(cur);
        issues.push({ code: "bus-loop", bdf: self?.bdf ?? busKey(segmentOfBus(cur), numberOfBus(cur)), bus: numberOfBus(cur) % 0x100 });
        parentOf.set(cur, undefined);
        selfOf.delete(cur);
        for (const b of seen) reachesRoot.add(b);
        break;
      }
      seen.add(p);
      cur = p;
    }
  }

  // bridge ranges: siblings must not overlap, children must sit inside
  for (const [key, list] of onBus) {
    const bridges = list.filter((w) => w.secondary !== undefined && selfOf.get(busNoOf(w.input.segment, w.secondary)) === w);
    if (bridges.length > 1) {
      const ends = bridges.map((w) => Math.max(w.subordinate ?? w.secondary!, w.secondary!));
      for (let i = 0; i < bridges.length; i++) {
        const a = bridges[i]!;
        const aEnd = ends[i]!;
        for (let j = i + 1; j < bridges.length; j++) {
          const b = bridges[j]!;
          const bEnd = ends[j]!;
          if (a.secondary! <= bEnd && b.secondary! <= aEnd) {
            issues.push({ code: "bus-range-overlap", bdf: a.bdf, other: b.bdf, secondary: b.secondary!, subordinate: bEnd });
          }
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
  const upstreamOf = (w: Work): Work | undefined => selfOf.get(w.busNo);
  const typeOf = (w: Work, depth = 0): number | undefined => {
    if (w.corrected !== null) return w.corrected;
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
    w.corrected = t;
    return t;
  };

  // ARI forwarding on the bridge above a bus
  const ariOf = new Map<number, boolean>();
  for (const key of onBus.keys()) ariOf.set(key, selfOf.get(key)?.input.config?.express?.ariForwardingEnabled === true);

  // scan rules (pci_scan_slot, only_one_child)
  for (const [key, list] of onBus) {
    if (opts.kernelView) break;
    const self = selfOf.get(key);
    const selfType = self ? typeOf(self) : undefined;
    const onlyOneChild = !opts.pcieScanAll && (selfType === PCI_EXP_TYPE_ROOT_PORT || selfType === PCI_EXP_TYPE_DOWNSTREAM);
    const ari = ariOf.get(key)!;
    const byDevfn = new Map<number, Work>();
    for (const w of list) if (!byDevfn.has(w.input.devfn)) byDevfn.set(w.input.devfn, w);
    for (const w of list) {
      if (w.isVirtfn) continue;
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
      if (reason) {
        w.scanned = false;
        issues.push({ code: "not-scanned", bdf: w.bdf, reason });
      }
    }
  }

  // final records
  const sorted = works;
  // sources list functions in BDF order already; sort only when they do not
  if (sorted.some((w, i) => i > 0 && byBdfOrder(sorted[i - 1]!, w) > 0)) sorted.sort(byBdfOrder);
  const acsStates = new Map<string, AcsState>();
  const fns: PciFunction[] = new Array<PciFunction>(sorted.length);
  for (const w of sorted) {
    const c = w.input.config;
    const ids = w.input.ids ?? NO_IDS;
    const isPcie = c?.express !== undefined;
    const pcieType = isPcie ? (typeOf(w) ?? 0) : 0;
    const fnNumber = ariOf.get(w.busNo) ? w.input.devfn : funcOf(w.input.devfn);
    const multifunction = w.isVirtfn ? false : fnNumber > 0 ? true : (c?.multifunctionBit ?? false);
    const up = upstreamOf(w);
    const record: PciFunction = {
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
      acs: w.predicted ? ACS_ABSENT : acsStateOf(c, acsStates),
      phantomFunctions: c?.express?.phantomFunctions ?? 0,
      isVirtfn: w.isVirtfn,
      physfn: w.physfn,
      predicted: w.predicted,
      scanned: w.scanned,
      driver: w.input.driver,
      kernelGroup: w.input.kernelGroup,
      realDmaDev: w.input.realDmaDev,
      upstream: up?.bdf,
      config: c,
      issues: w.input.configIssues ?? c?.issues ?? NO_ISSUES,
    };
    w.record = record;
  }
  // plain numbers sort like the BDF text: a table searched by number, else a map by BDF
  // (a bad source whose numbers print alike keeps the first: both then hold fewer functions than were built)
  let functions: ReadonlyMap<string, PciFunction>;
  let dense = true;
  if (plainNumbers) {
    const keys = new Float64Array(sorted.length);
    for (let i = 0; i < sorted.length; i++) {
      const w = sorted[i]!;
      w.index = i;
      fns[i] = w.record!;
      keys[i] = w.key;
    }
    functions = new FunctionTable(fns, keys);
  } else {
    const byBdf = new Map<string, PciFunction>();
    for (const w of sorted) {
      w.index = byBdf.size;
      fns[w.index] = w.record!;
      byBdf.set(w.bdf, w.record!);
    }
    functions = byBdf;
    dense = byBdf.size === sorted.length;
  }

  const buses = new Map<string, PciBus>();
  const busKeyOf = new Map<number, string>();
  for (const key of onBus.keys()) busKeyOf.set(key, busKey(segmentOfBus(key), numberOfBus(key)));
  const keyText = (key: number): string => busKeyOf.get(key) ?? busKey(segmentOfBus(key), numberOfBus(key));
  const onBusSorted = new Map<number, Work[]>();
  // the dense form: bus indexes in the order of `buses`
  const busIndexOfNo = new Map<number, number>();
  const busIndexOf = new Map<string, number>();
  for (const key of onBus.keys()) {
    busIndexOf.set(keyText(key), busIndexOfNo.size);
    busIndexOfNo.set(key, busIndexOfNo.size);
  }
  const busSelf = new Int32Array(busIndexOfNo.size);
  const busParent = new Int32Array(busIndexOfNo.size);
  for (const [key, list] of onBus) {
    const b = busIndexOfNo.get(key)!;
    busSelf[b] = selfOf.get(key)?.index ?? NONE;
    const parentNo = parentOf.get(key);
    busParent[b] = parentNo === undefined ? NONE : (busIndexOfNo.get(parentNo) ?? NONE);
    const inOrder = list.some((w, i) => i > 0 && byBdfOrder(list[i - 1]!, w) > 0) ? [...list].sort(byBdfOrder) : list;
    onBusSorted.set(key, inOrder);
    const parent = parentOf.get(key);
    buses.set(keyText(key), {
      key: keyText(key),
      segment: segmentOfBus(key),
      number: numberOfBus(key),
      self: selfOf.get(key)?.bdf,
      parent: parent === undefined ? undefined : keyText(parent),
      virtual: virtual.has(key),
      ari: ariOf.get(key)!,
      functions: inOrder.map((w) => w.bdf),
    });
  }

  // root buses in the kernel's scan order (ACPI host bridges), then by segment and bus number
  const rootRank = new Map((opts.rootOrder ?? []).map((k, i) => [k, i]));
  const rankOf = (key: number): number => rootRank.get(keyText(key)) ?? rootRank.size;
  const rootKeys = [...onBus.keys()]
    .filter((k) => parentOf.get(k) === undefined)
    .sort((a, b) => rankOf(a) - rankOf(b) || segmentOfBus(a) - segmentOfBus(b) || numberOfBus(a) - numberOfBus(b));
  const roots = rootKeys.map(keyText);

  // scan order: all functions of a bus, then each bridge's subtree (depth first)
  const scanOrder: string[] = [];
  const scanIndex = new Int32Array(sorted.length);
  let scanned = 0;
  const visited = new Set<number>();
  const visit = (key: number): void => {
    if (visited.has(key)) return;
    visited.add(key);
    const list = onBusSorted.get(key);
    if (!list) return;
    for (const w of list) {
      if (!w.scanned || w.isVirtfn) continue;
      w.order = scanOrder.length;
      scanOrder.push(w.bdf);
      scanIndex[scanned++] = w.index;
    }
    for (const w of list) {
      if (!w.scanned || w.isVirtfn || w.secondary === undefined) continue;
      const child = busNoOf(w.input.segment, w.secondary);
      if (selfOf.get(child) === w) visit(child);
    }
  };
  for (const r of rootKeys) visit(r);
  // VFs appear when SR-IOV is enabled, after the boot scan, PF by PF
  const vfs = sorted.filter((w) => w.isVirtfn);
  if (vfs.length > 0) {
    const pfOrder = (w: Work): number => {
      const pf = byBdfText().get(w.physfn!);
      return pf !== undefined && pf.scanned && !pf.isVirtfn && visited.has(pf.busNo) ? pf.order : 0;
    };
    vfs.sort((a, b) => pfOrder(a) - pfOrder(b) || devId(a.input.bus, a.input.devfn) - devId(b.input.bus, b.input.devfn));
    for (const w of vfs) {
      scanOrder.push(w.bdf);
      scanIndex[scanned++] = w.index;
    }
  }
  const topology: Topology = { functions, buses, roots, scanOrder, issues };
  // the integer form the engine's searches walk, from the numbers above
  const busOf = new Int32Array(fns.length);
  for (const w of sorted) busOf[w.index] = busIndexOfNo.get(w.busNo) ?? NONE;
  // (a bad source whose numbers print alike keeps fewer names than numbers: indexed on first use instead)
  if (dense && buses.size === busIndexOfNo.size) keepDense(topology, { fns, busOf, buses: [...buses.values()], busIndexOf, busSelf, busParent, scanIndex: scanIndex.subarray(0, scanned) }, functions instanceof FunctionTable ? functions : undefined);
  return topology;
}

const NO_IDS: NonNullable<FunctionInput["ids"]> = {};
const NO_ISSUES: readonly ConfigIssue[] = [];
