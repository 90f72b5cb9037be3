import { REQ_ACS_FLAGS } from "../regs/acs.js";
import { ReadonlyMapView } from "../readonly-map.js";
import { slotOf } from "../topology/address.js";
import { MISSING, NONE, denseTopology } from "../topology/dense.js";
import type { DenseTopology } from "../topology/dense.js";
import type { PciFunction, Topology } from "../topology/model.js";
import type { AcsEvaluator, AcsVerdict } from "./acs.js";
import { NO_ALIAS_PROPS, walkDmaAliases } from "./dma-alias.js";
import type { AliasProps, DmaAlias, PropsAt, PropsLookup } from "./dma-alias.js";
import type { ProbeHow, StreamRefusal } from "./arm64.js";
import type { UngroupedReason } from "./units.js";

/**
 * One decision of pci_device_group, recorded when it is taken
 * (kernel-spec §5.1). Renderers print these; they never re-derive them.
 */
export type GroupStep =
  | { readonly code: "alias-bridge-group"; readonly at: string; readonly via: string; readonly alias: DmaAlias; readonly group: number }
  | { readonly code: "acs-isolated"; readonly at: string; readonly bridge: string }
  | { readonly code: "acs-not-isolated"; readonly at: string; readonly bridge: string; readonly failing: AcsVerdict; readonly group: number | undefined }
  | { readonly code: "alias-group"; readonly at: string; readonly partner: string; readonly chain: readonly string[]; readonly group: number }
  | { readonly code: "function-group"; readonly at: string; readonly sibling: string; readonly verdict: AcsVerdict; readonly chain: readonly string[]; readonly group: number }
  | { readonly code: "new-group"; readonly at: string; readonly group: number; readonly verdict: AcsVerdict | undefined }
  | { readonly code: "no-iommu"; readonly at: string; readonly reason: UngroupedReason; readonly refusal?: StreamRefusal | undefined }
  /** arm64: when and why the SMMU set the function up (driver probe order) */
  | { readonly code: "arm-probe"; readonly at: string; readonly how: ProbeHow; readonly driver: string | undefined; readonly phase: "scan" | "modules" | "vfs" | "add"; readonly orderFrom: "proc-modules" | "assumed" };

export interface GroupInput {
  readonly topology: Topology;
  readonly props: PropsLookup;
  readonly acs: AcsEvaluator;
  /**
   * probe passes in order: each pass lists the functions one IOMMU unit
   * probes, in scan order (one pass before 6.1, one per unit since)
   */
  readonly passes: readonly (readonly string[])[];
  /** functions that never get a group, with the reason */
  readonly ungrouped?: ReadonlyMap<string, UngroupedReason>;
  /** arm64: what the SMMUv3 driver refused, for the "stream-conflict" functions */
  readonly refusals?: ReadonlyMap<string, StreamRefusal>;
  /** ids already taken by non-PCI devices */
  readonly reservedIds?: number;
  /**
   * the same answers as `props`, as the few functions that have any (every
   * other function has none): lets the search index them instead of asking
   * `props` once per function
   */
  readonly sparseProps?: ReadonlyMap<string, AliasProps>;
}

export interface PredictedGroup {
  readonly id: number;
  /** in the order they joined */
  readonly members: readonly string[];
}

export interface GroupPrediction {
  readonly groups: readonly PredictedGroup[];
  readonly groupOf: ReadonlyMap<string, number>;
  readonly steps: ReadonlyMap<string, readonly GroupStep[]>;
  /** functions whose unknown ACS (short dump) was taken as "no ACS" on the way to their group */
  readonly dependsOnUnknown: ReadonlyMap<string, readonly string[]>;
}

/** devfns already searched in one probe; marks are reset by bumping an epoch */
class DevfnMarks {
  readonly #marks = new Int32Array(256);
  #epoch = 0;
  #other: Set<number> | undefined;
  reset(): void {
    this.#epoch++;
    this.#other = undefined;
  }
  /** marks devfn; false when it was marked already */
  add(devfn: number): boolean {
    if (devfn >= 0 && devfn < 256 && Number.isInteger(devfn)) {
      if (this.#marks[devfn] === this.#epoch) return false;
      this.#marks[devfn] = this.#epoch;
      return true;
    }
    this.#other ??= new Set();
    if (this.#other.has(devfn)) return false;
    this.#other.add(devfn);
    return true;
  }
}


/** the chain of a step found without going through other functions (shared, never changed) */
const NO_CHAIN: readonly string[] = Object.freeze([]);

/** a bus's flag not worked out yet, true, false */
const UNSET = 0;
const YES = 1;
const NO = 2;

/**
 * pci_device_group over the probe passes (kernel-spec §5), on the dense
 * topology: a function is its index, its group an Int32Array slot, and the
 * same-bus searches walk a bus's scanned functions (by slot for §5.1 D), so
 * each search is bounded by the slot or the bus, not by the machine. ACS
 * verdicts and path answers are computed once per function and shared by
 * every probe that asks. BDF strings appear only in the steps and the maps
 * the prediction hands out.
 */
export function predictGroups(input: GroupInput): GroupPrediction {
  const { topology, props, acs } = input;
  const d = denseTopology(topology);
  const { fns, busOf, buses, busSelf, busParent, scanMembers } = d;
  const n = fns.length;
  const firstId = input.reservedIds ?? 0;
  const group = new Int32Array(n).fill(-1);
  const stepsAt = new Array<readonly GroupStep[] | undefined>(n);
  const joinOrder = new Int32Array(n);
  let joined = 0;
  const members: string[][] = [];
  const unknown = new Map<string, string[]>();

  // alias props by index: from the few functions that have any, else asked once per function
  let propsAt: PropsAt;
  if (input.sparseProps) {
    const byIndex = new Map<number, AliasProps>();
    for (const [bdf, p] of input.sparseProps) {
      const i = d.index(bdf);
      if (i !== undefined) byIndex.set(i, p);
    }
    propsAt = (i) => byIndex.get(i) ?? NO_ALIAS_PROPS;
  } else {
    const memo = new Array<AliasProps | undefined>(n);
    propsAt = (i, f) => (i >= 0 ? (memo[i] ??= props(f.bdf)) : props(f.bdf));
  }
  const aliasesEachOther = (a: number, b: number): boolean =>
    propsAt(a, fns[a]!).aliasDevfns.includes(fns[b]!.devfn) || propsAt(b, fns[b]!).aliasDevfns.includes(fns[a]!.devfn);

  // per bus: some function has a DMA alias mask; its functions by slot (made on first use)
  const busAliases = new Uint8Array(buses.length);
  const hasAliases = (b: number): boolean => {
    if (busAliases[b] === UNSET) busAliases[b] = scanMembers[b]!.some((i) => propsAt(i, fns[i]!).aliasDevfns.length > 0) ? YES : NO;
    return busAliases[b] === YES;
  };
  const busSlots = new Array<number[][] | undefined>(buses.length);
  const slotSiblings = (b: number, devfn: number): readonly number[] => {
    let slots = busSlots[b];
    if (!slots) {
      slots = Array.from({ length: 32 }, () => []);
      for (const i of scanMembers[b]!) slots[slotOf(fns[i]!.devfn)]?.push(i);
      busSlots[b] = slots;
    }
    return slots[slotOf(devfn)] ?? [];
  };

  // the evaluator's own caches by index when it answers for this very model
  const indexed = acs.covers(topology);
  const enabledAt = indexed ? (i: number): AcsVerdict => acs.enabledAt(i, REQ_ACS_FLAGS) : (i: number): AcsVerdict => acs.enabled(fns[i]!, REQ_ACS_FLAGS);
  const pathFailureAt = indexed ? (i: number): AcsVerdict | undefined => acs.pathFailureAt(i, REQ_ACS_FLAGS) : (i: number) => acs.pathFailure(fns[i]!, REQ_ACS_FLAGS);

  // the probe under way
  let unknownSeen: string[] | undefined;
  const marks = new DevfnMarks();
  const chain: string[] = [];

  const acsEnabled = (i: number): AcsVerdict => {
    const v = enabledAt(i);
    if (v.reason.kind === "acs-unknown") (unknownSeen ??= []).push(fns[i]!.bdf);
    return v;
  };
  const pathFailure = (i: number): AcsVerdict | undefined => {
    const v = pathFailureAt(i);
    if (v?.reason.kind === "acs-unknown") (unknownSeen ??= []).push(v.bdf);
    return v;
  };

  // the searches answer the index of the function whose group was found (its group is group[i]), or NONE
  function aliasGroup(q: number): number {
    const fq = fns[q]!;
    if (!marks.add(fq.devfn)) return NONE;
    if (group[q]! >= 0) return q;
    const b = busOf[q]!;
    const m = b >= 0 ? scanMembers[b]! : undefined;
    // no alias mask on either side: no function of the bus is q's DMA alias
    if (!m || m.length === 0 || (!hasAliases(b) && propsAt(q, fq).aliasDevfns.length === 0)) return NONE;
    for (const t of m) {
      if (t === q || !aliasesEachOther(q, t)) continue;
      chain.push(fns[t]!.bdf);
      let r = aliasGroup(t);
      if (r === NONE) r = functionAliasGroup(t);
      if (r !== NONE) return r;
      chain.pop();
    }
    return NONE;
  }

  function functionAliasGroup(q: number): number {
    const fq = fns[q]!;
    if (!fq.multifunction || acsEnabled(q).enabled) return NONE;
    const b = busOf[q]!;
    if (b < 0 || scanMembers[b]!.length === 0) return NONE;
    for (const t of slotSiblings(b, fq.devfn)) {
      if (t === q || acsEnabled(t).enabled) continue;
      chain.push(fns[t]!.bdf);
      const r = aliasGroup(t);
      if (r !== NONE) return r;
      chain.pop();
    }
    return NONE;
  }

  // the steps of the probe under way; each function keeps an exact-size copy
  const trail: GroupStep[] = [];
  const probe = (dev: number): void => {
    const bdf = fns[dev]!.bdf;
    trail.length = 0;
    unknownSeen = undefined;
    const join = (g: number): void => {
      group[dev] = g;
      joinOrder[joined++] = dev;
      const m = members[g - firstId];
      if (m) m.push(bdf);
      else members[g - firstId] = [bdf];
      stepsAt[dev] = trail.slice();
      if (unknownSeen !== undefined) unknown.set(bdf, [...new Set(unknownSeen)]);
    };

    // A. topology aliases
    let last = dev;
    let lastAlias: DmaAlias | undefined;
    const hit = walkDmaAliases(d, propsAt, fns[dev]!, dev, (_p, pi, alias) => {
      last = pi;
      lastAlias = alias;
      const g = group[pi]!;
      return g >= 0 ? g : undefined;
    });
    if (hit !== undefined) {
      trail.push({ code: "alias-bridge-group", at: bdf, via: fns[last]!.bdf, alias: lastAlias!, group: hit });
      return join(hit);
    }

    // B. climb while the path above is not ACS-isolated
    let p = last;
    let b = busOf[p]!;
    for (let guard = 0; b >= 0 && buses[b]!.parent !== undefined && guard < 512; guard++, b = busParent[b]!) {
      const self = busSelf[b]!;
      if (self === NONE) continue;
      if (self === MISSING) break;
      const failing = pathFailure(self);
      if (!failing) {
        trail.push({ code: "acs-isolated", at: bdf, bridge: fns[self]!.bdf });
        break;
      }
      p = self;
      const g = group[p]!;
      trail.push({ code: "acs-not-isolated", at: bdf, bridge: fns[self]!.bdf, failing, group: g >= 0 ? g : undefined });
      if (g >= 0) return join(g);
    }

    // C. DMA-alias relatives of p, D. non-isolated functions of p's slot
    marks.reset();
    chain.length = 0;
    const found = aliasGroup(p);
    const at = fns[p]!.bdf;
    if (found !== NONE) {
      const g = group[found]!;
      trail.push({ code: "alias-group", at, partner: fns[found]!.bdf, chain: chain.length === 0 ? NO_CHAIN : [...chain], group: g });
      return join(g);
    }
    const viaFn = functionAliasGroup(p);
    if (viaFn !== NONE) {
      const g = group[viaFn]!;
      trail.push({ code: "function-group", at, sibling: fns[viaFn]!.bdf, verdict: acsEnabled(p), chain: chain.length === 0 ? NO_CHAIN : [...chain], group: g });
      return join(g);
    }

    // E. a new group
    const id = firstId + members.length;
    trail.push({ code: "new-group", at: bdf, group: id, verdict: fns[p]!.multifunction ? acsEnabled(p) : undefined });
    join(id);
  };

  const ungrouped = input.ungrouped !== undefined && input.ungrouped.size > 0 ? input.ungrouped : undefined;
  // a pass lists functions in scan order: each is found by following the scan order, looked up by BDF only when that misses
  const { scanIndex, scanPos } = d;
  for (const pass of input.passes) {
    let next = 0;
    for (const bdf of pass) {
      let i: number | undefined;
      if (next < scanIndex.length && fns[scanIndex[next]!]!.bdf === bdf) i = scanIndex[next++]!;
      else {
        i = d.index(bdf);
        if (i !== undefined && scanPos[i]! >= 0) next = scanPos[i]! + 1;
      }
      if (i === undefined || group[i]! >= 0 || ungrouped?.has(bdf)) continue;
      probe(i);
    }
  }

  const noIommu = new Map<string, readonly GroupStep[]>();
  for (const [bdf, reason] of input.ungrouped ?? []) noIommu.set(bdf, [{ code: "no-iommu", at: bdf, reason, refusal: input.refusals?.get(bdf) }]);
  const order = joinOrder.subarray(0, joined);
  // (the views hold these arrays, not closures: nothing else of the search stays alive)
  const groupOf = new JoinedMap<number>(d, order, group, -1, new Map());
  const steps = new JoinedMap<readonly GroupStep[]>(d, order, stepsAt, undefined, noIommu);
  const groups = members.map((m, i) => ({ id: firstId + i, members: m }));
  return { groups, groupOf, steps, dependsOnUnknown: unknown };
}

/**
 * A read-only map from BDF over what the search kept by function index:
 * `head`'s entries first, then the functions in `order`. Saves building two
 * string-keyed maps of every function (group and steps) that most callers
 * only look up in.
 */
class JoinedMap<V> extends ReadonlyMapView<string, V> {
  readonly #d: DenseTopology;
  readonly #order: Int32Array;
  readonly #values: ArrayLike<V | undefined>;
  readonly #absent: V | undefined;
  readonly #head: ReadonlyMap<string, V>;

  /** `values[i]` is function i's value, `absent` where it has none */
  constructor(d: DenseTopology, order: Int32Array, values: ArrayLike<V | undefined>, absent: V | undefined, head: ReadonlyMap<string, V>) {
    super();
    this.#d = d;
    this.#order = order;
    this.#values = values;
    this.#absent = absent;
    this.#head = head;
  }

  #at(i: number): V | undefined {
    const v = this.#values[i];
    return v === this.#absent ? undefined : v;
  }

  get size(): number {
    return this.#head.size + this.#order.length;
  }

  get(bdf: string): V | undefined {
    const i = this.#d.index(bdf);
    const v = i === undefined ? undefined : this.#at(i);
    return v !== undefined ? v : this.#head.get(bdf);
  }

  *entries(): MapIterator<[string, V]> {
    yield* this.#head.entries();
    const fns = this.#d.fns;
    for (const i of this.#order) yield [fns[i]!.bdf, this.#at(i)!];
  }
}
