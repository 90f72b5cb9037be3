import { REQ_ACS_FLAGS } from "../regs/acs.js";
import { busKey, slotOf } from "../topology/address.js";
import type { PciFunction, Topology } from "../topology/model.js";
import type { AcsEvaluator, AcsVerdict } from "./acs.js";
import { devsAreDmaAliases, forEachDmaAlias } from "./dma-alias.js";
import type { DmaAlias, PropsLookup } from "./dma-alias.js";
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

/**
 * pci_device_group over the probe passes (kernel-spec §5). Same-bus
 * functions are indexed once, so each search is bounded by the bus, not by
 * the machine.
 */
export function predictGroups(input: GroupInput): GroupPrediction {
  const { topology, props, acs } = input;
  const groupOf = new Map<string, number>();
  const members = new Map<number, string[]>();
  const steps = new Map<string, GroupStep[]>();
  const unknown = new Map<string, string[]>();
  let nextId = input.reservedIds ?? 0;

  const sameBus = new Map<string, PciFunction[]>();
  for (const bdf of topology.scanOrder) {
    const f = topology.functions.get(bdf)!;
    const key = busKey(f.segment, f.bus);
    const list = sameBus.get(key) ?? [];
    list.push(f);
    sameBus.set(key, list);
  }
  const siblings = (p: PciFunction): readonly PciFunction[] => sameBus.get(busKey(p.segment, p.bus)) ?? [];

  const probe = (dev: PciFunction): void => {
    const trail: GroupStep[] = [];
    const unknownSeen: string[] = [];
    const acsEnabled = (f: PciFunction): AcsVerdict => {
      const v = acs.enabled(f, REQ_ACS_FLAGS);
      if (v.reason.kind === "acs-unknown") unknownSeen.push(f.bdf);
      return v;
    };
    const join = (g: number): void => {
      groupOf.set(dev.bdf, g);
      members.get(g)!.push(dev.bdf);
      steps.set(dev.bdf, trail);
      if (unknownSeen.length > 0) unknown.set(dev.bdf, [...new Set(unknownSeen)]);
    };

    // A. topology aliases
    let last: PciFunction = dev;
    let lastAlias: DmaAlias | undefined;
    const hit = forEachDmaAlias(topology, props, dev, (p, alias) => {
      last = p;
      lastAlias = alias;
      return groupOf.get(p.bdf);
    });
    if (hit !== undefined) {
      trail.push({ code: "alias-bridge-group", at: dev.bdf, via: last.bdf, alias: lastAlias!, group: hit });
      return join(hit);
    }

    // B. climb while the path above is not ACS-isolated
    let p: PciFunction = last;
    let bus = topology.buses.get(busKey(p.segment, p.bus));
    for (let guard = 0; bus && bus.parent !== undefined && guard < 512; guard++, bus = topology.buses.get(bus.parent)) {
      if (bus.self === undefined) continue;
      const self = topology.functions.get(bus.self);
      if (!self) break;
      const failing = pathFailure(self);
      if (!failing) {
        trail.push({ code: "acs-isolated", at: dev.bdf, bridge: self.bdf });
        break;
      }
      p = self;
      const g = groupOf.get(p.bdf);
      trail.push({ code: "acs-not-isolated", at: dev.bdf, bridge: self.bdf, failing, group: g });
      if (g !== undefined) return join(g);
    }

    // C. DMA-alias relatives of p, D. non-isolated functions of p's slot
    const visited = new Set<number>();
    const chain: string[] = [];
    const found = aliasGroup(p, visited, chain);
    if (found) {
      trail.push({ code: "alias-group", at: p.bdf, partner: found.bdf, chain: [...chain], group: found.group });
      return join(found.group);
    }
    const viaFn = functionAliasGroup(p, visited, chain);
    if (viaFn) {
      trail.push({ code: "function-group", at: p.bdf, sibling: viaFn.bdf, verdict: acsEnabled(p), chain: [...chain], group: viaFn.group });
      return join(viaFn.group);
    }

    // E. a new group
    const id = nextId++;
    members.set(id, []);
    trail.push({ code: "new-group", at: dev.bdf, group: id, verdict: p.multifunction ? acsEnabled(p) : undefined });
    join(id);

    function pathFailure(start: PciFunction): AcsVerdict | undefined {
      const v = acs.pathFailure(start, REQ_ACS_FLAGS);
      if (v?.reason.kind === "acs-unknown") unknownSeen.push(v.bdf);
      return v;
    }

    function aliasGroup(q: PciFunction, seen: Set<number>, path: string[]): { bdf: string; group: number } | undefined {
      if (seen.has(q.devfn)) return undefined;
      seen.add(q.devfn);
      const g = groupOf.get(q.bdf);
      if (g !== undefined) return { bdf: q.bdf, group: g };
      for (const t of siblings(q)) {
        if (t === q || !devsAreDmaAliases(props, q, t)) continue;
        path.push(t.bdf);
        const r = aliasGroup(t, seen, path) ?? functionAliasGroup(t, seen, path);
        if (r) return r;
        path.pop();
      }
      return undefined;
    }

    function functionAliasGroup(q: PciFunction, seen: Set<number>, path: string[]): { bdf: string; group: number } | undefined {
      if (!q.multifunction || acsEnabled(q).enabled) return undefined;
      for (const t of siblings(q)) {
        if (t === q || slotOf(t.devfn) !== slotOf(q.devfn) || acsEnabled(t).enabled) continue;
        path.push(t.bdf);
        const r = aliasGroup(t, seen, path);
        if (r) return r;
        path.pop();
      }
      return undefined;
    }
  };

  for (const [bdf, reason] of input.ungrouped ?? []) steps.set(bdf, [{ code: "no-iommu", at: bdf, reason, refusal: input.refusals?.get(bdf) }]);
  for (const pass of input.passes) {
    for (const bdf of pass) {
      if (groupOf.has(bdf) || input.ungrouped?.has(bdf)) continue;
      const f = topology.functions.get(bdf);
      if (f) probe(f);
    }
  }
  const groups = [...members.entries()].sort((a, b) => a[0] - b[0]).map(([id, m]) => ({ id, members: m }));
  return { groups, groupOf, steps, dependsOnUnknown: unknown };
}
