/**
 * A literal, step-by-step transcription of the kernel's grouping
 * (kernel-spec §2.1, §3.2, §4.3, §5.1–5.3), kept only to check the engine in
 * src/core/iommu/groups.ts. It scans the global device list wherever the
 * kernel does, with no indexes and no explanation steps.
 */
import type { AcsEvaluator } from "../iommu/acs.js";
import type { PropsLookup } from "../iommu/dma-alias.js";
import { REQ_ACS_FLAGS } from "../regs/acs.js";
import { busKey, devId } from "../topology/address.js";
import type { PciFunction, Topology } from "../topology/model.js";

export function referenceGroups(topology: Topology, props: PropsLookup, acs: AcsEvaluator, passes: readonly (readonly string[])[], skip: ReadonlySet<string> = new Set()): Map<string, number> {
  const devices = topology.scanOrder.map((b) => topology.functions.get(b)!);
  const groupOf = new Map<string, number>();
  const used = new Set<number>();
  const busOf = (d: PciFunction) => topology.buses.get(busKey(d.segment, d.bus))!;
  const isRootBus = (d: PciFunction) => busOf(d).parent === undefined;
  const enabled = (d: PciFunction) => acs.enabled(d, REQ_ACS_FLAGS).enabled;

  // pci_for_each_dma_alias
  function forEachAlias(dev: PciFunction, fn: (p: PciFunction, rid: number) => number): number {
    if (dev.realDmaDev !== undefined) dev = topology.functions.get(dev.realDmaDev)!;
    let ret = fn(dev, devId(dev.bus, dev.devfn));
    if (ret) return ret;
    for (let devfn = 0; devfn < 256; devfn++) {
      if (props(dev.bdf).aliasDevfns.includes(devfn)) {
        ret = fn(dev, devId(dev.bus, devfn));
        if (ret) return ret;
      }
    }
    let bus = busOf(dev);
    while (bus.parent !== undefined) {
      if (bus.self === undefined) {
        bus = topology.buses.get(bus.parent)!;
        continue;
      }
      const tmp = topology.functions.get(bus.self)!;
      if (props(tmp.bdf).xlateRoot) return ret;
      if (tmp.isPcie) {
        if (tmp.pcieType === 7) ret = fn(tmp, devId(tmp.secondary!, 0));
        else if (tmp.pcieType === 8) ret = fn(tmp, devId(tmp.bus, tmp.devfn));
      } else if (tmp.config !== undefined && !tmp.config.capabilitiesKnown) {
        // unknown capabilities: taken as a PCIe port, no alias
      } else if (props(tmp.bdf).pcieBridgeAlias) ret = fn(tmp, devId(tmp.secondary!, 0));
      else ret = fn(tmp, devId(tmp.bus, tmp.devfn));
      if (ret) return ret;
      bus = topology.buses.get(bus.parent)!;
    }
    return ret;
  }

  // pci_acs_path_enabled(start, NULL, req)
  function acsPathEnabled(start: PciFunction): boolean {
    let next: PciFunction | undefined = start;
    let cur: PciFunction | undefined;
    do {
      cur = next!;
      if (!enabled(cur)) return false;
      if (isRootBus(cur)) return true;
      const self: string | undefined = busOf(cur).self;
      next = self === undefined ? undefined : topology.functions.get(self);
    } while (next !== undefined);
    return true;
  }

  const areAliases = (a: PciFunction, b: PciFunction) => props(a.bdf).aliasDevfns.includes(b.devfn) || props(b.bdf).aliasDevfns.includes(a.devfn);

  function aliasGroup(pdev: PciFunction, visited: Set<number>): number | undefined {
    if (visited.has(pdev.devfn)) return undefined;
    visited.add(pdev.devfn);
    if (groupOf.has(pdev.bdf)) return groupOf.get(pdev.bdf);
    for (const tmp of devices) {
      if (tmp === pdev || tmp.bus !== pdev.bus || tmp.segment !== pdev.segment) continue;
      if (areAliases(pdev, tmp)) {
        const g = aliasGroup(tmp, visited) ?? functionAliasGroup(tmp, visited);
        if (g !== undefined) return g;
      }
    }
    return undefined;
  }

  function functionAliasGroup(pdev: PciFunction, visited: Set<number>): number | undefined {
    if (!pdev.multifunction || enabled(pdev)) return undefined;
    for (const tmp of devices) {
      if (tmp === pdev || tmp.bus !== pdev.bus || tmp.segment !== pdev.segment || tmp.devfn >> 3 !== pdev.devfn >> 3 || enabled(tmp)) continue;
      const g = aliasGroup(tmp, visited);
      if (g !== undefined) return g;
    }
    return undefined;
  }

  function deviceGroup(dev: PciFunction): number {
    let last: PciFunction = dev;
    const hit = forEachAlias(dev, (p) => {
      last = p;
      const g = groupOf.get(p.bdf);
      return g === undefined ? 0 : g + 1;
    });
    if (hit) return hit - 1;
    let pdev: PciFunction = last;
    for (let bus = busOf(pdev); bus.parent !== undefined; bus = topology.buses.get(bus.parent)!) {
      if (bus.self === undefined) continue;
      const self = topology.functions.get(bus.self)!;
      if (acsPathEnabled(self)) break;
      pdev = self;
      if (groupOf.has(pdev.bdf)) return groupOf.get(pdev.bdf)!;
    }
    const visited = new Set<number>();
    const g = aliasGroup(pdev, visited) ?? functionAliasGroup(pdev, visited);
    if (g !== undefined) return g;
    let id = 0;
    while (used.has(id)) id++;
    used.add(id);
    return id;
  }

  for (const pass of passes) {
    for (const b of pass) {
      if (groupOf.has(b) || skip.has(b)) continue;
      groupOf.set(b, deviceGroup(topology.functions.get(b)!));
    }
  }
  return groupOf;
}
