/**
 * The topology as integers, for the engine's inner loops: every function
 * and bus gets an index, and the links between them (a function's bus, a
 * bus's bridge and parent, a bus's functions in scan order) are typed
 * arrays. BDF strings and string-keyed maps stay at the edges: a search
 * that walks a bus or climbs to the root touches no string.
 *
 * Built once per topology object and kept beside it: `buildTopology` hands
 * over what it already knows by number; other topologies (edited copies,
 * hand-made models) are indexed on first use. The BDF → index map is made
 * only when something looks a function up by its BDF.
 */
import { busKey } from "./address.js";
import type { PciBus, PciFunction, Topology } from "./model.js";

/** no such function or bus */
export const NONE = -1;
/** a bus whose bridge is named but is not among the functions (a bad source) */
export const MISSING = -2;

/** what a builder hands over; the class derives the rest */
export type DenseParts = Pick<DenseTopology, "fns" | "busOf" | "buses" | "busIndexOf" | "busSelf" | "busParent" | "scanIndex">;

export class DenseTopology {
  /** every function, in the order of `topology.functions` */
  readonly fns: readonly PciFunction[];
  /** the bus index of each function (NONE: its bus is not in the model) */
  readonly busOf: Int32Array;
  /** every bus, in the order of `topology.buses` */
  readonly buses: readonly PciBus[];
  /** bus index by key (`dddd:bb`) */
  readonly busIndexOf: ReadonlyMap<string, number>;
  /** the function index of each bus's bridge: NONE for a root or virtual bus, MISSING when not found */
  readonly busSelf: Int32Array;
  /** each bus's parent bus index (NONE: a root bus) */
  readonly busParent: Int32Array;
  /** `topology.scanOrder` as function indexes */
  readonly scanIndex: Int32Array;
  /** each function's position in the scan order (NONE: not in it) */
  readonly scanPos: Int32Array;
  /** each bus's scanned functions in scan order (the same-bus searches of pci_device_group walk these) */
  readonly scanMembers: readonly Int32Array[];
  #indexOf: Map<string, number> | undefined;
  readonly #lookup: ((bdf: string) => number) | undefined;

  /** `lookup`: the function index of a BDF (-1: none), when the model can answer it without a map */
  constructor(parts: DenseParts, indexOf?: Map<string, number>, lookup?: (bdf: string) => number) {
    this.#lookup = lookup;
    this.fns = parts.fns;
    this.busOf = parts.busOf;
    this.buses = parts.buses;
    this.busIndexOf = parts.busIndexOf;
    this.busSelf = parts.busSelf;
    this.busParent = parts.busParent;
    this.scanIndex = parts.scanIndex;
    this.#indexOf = indexOf;
    const n = this.fns.length;
    const scanPos = new Int32Array(n).fill(NONE);
    const counts = new Int32Array(this.buses.length);
    for (let k = 0; k < this.scanIndex.length; k++) {
      const i = this.scanIndex[k]!;
      scanPos[i] = k;
      const b = this.busOf[i]!;
      if (b >= 0) counts[b]!++;
    }
    const scanMembers = Array.from({ length: this.buses.length }, (_, b) => new Int32Array(counts[b]!));
    const filled = new Int32Array(this.buses.length);
    for (const i of this.scanIndex) {
      const b = this.busOf[i]!;
      if (b >= 0) scanMembers[b]![filled[b]!++] = i;
    }
    this.scanPos = scanPos;
    this.scanMembers = scanMembers;
  }

  /** the function index of a BDF */
  index(bdf: string): number | undefined {
    if (this.#lookup) {
      const i = this.#lookup(bdf);
      return i < 0 ? undefined : i;
    }
    if (!this.#indexOf) {
      const m = new Map<string, number>();
      for (let i = 0; i < this.fns.length; i++) m.set(this.fns[i]!.bdf, i);
      this.#indexOf = m;
    }
    return this.#indexOf.get(bdf);
  }
}

const cache = new WeakMap<Topology, DenseTopology>();

export function denseTopology(topology: Topology): DenseTopology {
  let d = cache.get(topology);
  if (!d) {
    d = indexTopology(topology);
    cache.set(topology, d);
  }
  return d;
}

/**
 * `buildTopology`'s own numbering, kept as the topology's dense form;
 * `table`: the model's function table, whose positions are the indexes
 */
export function keepDense(topology: Topology, parts: DenseParts, table?: { position(bdf: string): number }): void {
  // (a closure made here holds nothing of the caller's scope: the build's working state can go)
  cache.set(topology, new DenseTopology(parts, undefined, table ? (bdf) => table.position(bdf) : undefined));
}

function indexTopology(topology: Topology): DenseTopology {
  const n = topology.functions.size;
  const fns: PciFunction[] = new Array<PciFunction>(n);
  const indexOf = new Map<string, number>();
  let i = 0;
  for (const [bdf, f] of topology.functions) {
    fns[i] = f;
    indexOf.set(bdf, i++);
  }
  const buses: PciBus[] = [];
  const busIndexOf = new Map<string, number>();
  for (const [key, b] of topology.buses) {
    busIndexOf.set(key, buses.length);
    buses.push(b);
  }
  const busSelf = new Int32Array(buses.length);
  const busParent = new Int32Array(buses.length);
  for (let b = 0; b < buses.length; b++) {
    const bus = buses[b]!;
    busSelf[b] = bus.self === undefined ? NONE : (indexOf.get(bus.self) ?? MISSING);
    busParent[b] = bus.parent === undefined ? NONE : (busIndexOf.get(bus.parent) ?? NONE);
  }
  const busOf = new Int32Array(n);
  for (let k = 0; k < n; k++) busOf[k] = busIndexOf.get(busKey(fns[k]!.segment, fns[k]!.bus)) ?? NONE;
  const seen = new Uint8Array(n);
  const scan: number[] = [];
  for (const bdf of topology.scanOrder) {
    const k = indexOf.get(bdf);
    if (k === undefined || seen[k]) continue;
    seen[k] = 1;
    scan.push(k);
  }
  return new DenseTopology({ fns, busOf, buses, busIndexOf, busSelf, busParent, scanIndex: Int32Array.from(scan) }, indexOf);
}
