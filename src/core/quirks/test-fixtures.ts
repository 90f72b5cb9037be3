import { busKey, formatBdf } from "../topology/address.js";
import type { PciBus, PciFunction, Topology } from "../topology/model.js";

/** a function field set for tests; `bdf` is derived from segment/bus/devfn unless given */
export type FnPartial = Partial<PciFunction>;

/**
 * A synthetic PciFunction for tests: a single-function conventional endpoint
 * 0000:00:00.0 with vendor/device 0xffff/0xffff and no ACS capability,
 * overridden by `partial`.
 */
export function makeFn(partial: FnPartial = {}): PciFunction {
  const segment = partial.segment ?? 0;
  const bus = partial.bus ?? 0;
  const devfn = partial.devfn ?? 0;
  return {
    bdf: formatBdf(segment, bus, devfn),
    segment,
    bus,
    devfn,
    vendor: 0xffff,
    device: 0xffff,
    subsystemVendor: undefined,
    subsystemDevice: undefined,
    classCode: 0x000000,
    revision: undefined,
    headerType: 0,
    multifunction: false,
    isPcie: false,
    pcieType: 0,
    pcieTypeRegister: undefined,
    bridgeKind: undefined,
    secondary: undefined,
    subordinate: undefined,
    acs: { state: "absent" },
    phantomFunctions: 0,
    isVirtfn: false,
    physfn: undefined,
    predicted: false,
    scanned: true,
    driver: undefined,
    kernelGroup: undefined,
    realDmaDev: undefined,
    upstream: undefined,
    config: undefined,
    issues: [],
    ...partial,
  };
}

/**
 * A topology around the given functions: a bus is created for every bus
 * number in use; a bridge whose `secondary` names a bus becomes its `self`
 * (and its bus the parent), any other bus is a root bus. Each function's
 * `upstream` is set from its bus. Scan order = the order given.
 */
export function makeTopology(fns: readonly PciFunction[]): Topology {
  const bridgeFor = (segment: number, bus: number): PciFunction | undefined =>
    fns.find((f) => f.segment === segment && f.secondary === bus);
  const buses = new Map<string, PciBus>();
  for (const f of fns) {
    const key = busKey(f.segment, f.bus);
    if (buses.has(key)) continue;
    const self = bridgeFor(f.segment, f.bus);
    buses.set(key, {
      key,
      segment: f.segment,
      number: f.bus,
      self: self?.bdf,
      parent: self && busKey(self.segment, self.bus),
      virtual: false,
      ari: false,
      functions: fns.filter((g) => g.segment === f.segment && g.bus === f.bus).map((g) => g.bdf),
    });
  }
  const functions = new Map<string, PciFunction>();
  for (const f of fns) functions.set(f.bdf, { ...f, upstream: buses.get(busKey(f.segment, f.bus))?.self });
  return {
    functions,
    buses,
    roots: [...buses.values()].filter((b) => b.parent === undefined).map((b) => b.key),
    scanOrder: fns.map((f) => f.bdf),
    issues: [],
  };
}
