/**
 * Which IOMMU unit claims which PCI function, as Linux decides it
 * (kernel-spec.md §5.5, §7.1, §7.2). Pure functions over the parsed tables
 * and a minimal view of the PCI topology.
 */
import type { DmarDeviceScope, DmarDrhd, DmarTable } from "./dmar.js";
import { SCOPE_BRIDGE, SCOPE_ENDPOINT } from "./dmar.js";
import type { DevidRange, IvhdSpecialDevice, IvrsIvhd, IvrsTable } from "./ivrs.js";
import { isIvhdType, rangesContain } from "./ivrs.js";

export interface PciResolver {
  /** secondary and subordinate bus of the bridge at segment:bus:devfn, or undefined if no bridge there */
  bridgeRange(segment: number, bus: number, devfn: number): { secondary: number; subordinate: number } | undefined;
  exists(segment: number, bus: number, devfn: number): boolean;
}

export interface PciLocation {
  readonly bus: number;
  readonly devfn: number;
}

/** the function to place; a VF names its PF in `physfn` (same segment) */
export interface PciFunctionRef extends PciLocation {
  readonly segment: number;
  readonly physfn?: PciLocation;
}

// ---------------------------------------------------------------- Intel VT-d

export interface DmarUnit {
  /** Linux's seq_id: position among the registered DRHDs in table order */
  readonly index: number;
  /** `dmar<index>`, the name under /sys/class/iommu */
  readonly name: string;
  readonly segment: number;
  readonly includeAll: boolean;
  readonly registerBase: bigint;
  readonly drhd: DmarDrhd;
}

/**
 * The DRHD units in Linux's list order (dmar_register_drhd_unit): each unit
 * without INCLUDE_PCI_ALL goes to the head, so they come in reverse table
 * order, and INCLUDE_PCI_ALL units go to the tail. A DRHD repeating an
 * earlier one's segment and register base is not registered again
 * (dmar_find_dmaru) and takes no name.
 */
export function dmarUnits(table: DmarTable): DmarUnit[] {
  const registered: DmarUnit[] = [];
  for (const s of table.structures) {
    if (s.kind !== "drhd") continue;
    if (registered.some((u) => u.segment === s.segment && u.registerBase === s.registerBase)) continue;
    const index = registered.length;
    registered.push({
      index,
      name: `dmar${index}`,
      segment: s.segment,
      includeAll: s.includeAll,
      registerBase: s.registerBase,
      drhd: s,
    });
  }
  const list: DmarUnit[] = [];
  for (const unit of registered) {
    if (unit.includeAll) list.push(unit);
    else list.unshift(unit);
  }
  return list;
}

/**
 * The PCI function a device scope names, or undefined when it names none
 * that is present. Only endpoint (1) and bridge (2) scopes name PCI
 * functions. The first path entry is on the start bus; each further entry is
 * on the secondary bus of the bridge the previous entry found.
 */
export function resolveDmarScope(scope: DmarDeviceScope, segment: number, resolver: PciResolver): PciLocation | undefined {
  if (scope.type !== SCOPE_ENDPOINT && scope.type !== SCOPE_BRIDGE) return undefined;
  if (scope.path.length === 0) return undefined;
  let bus = scope.startBus;
  for (let i = 0; i < scope.path.length; i++) {
    const step = scope.path[i]!;
    if (step.device > 0x1f || step.function > 0x7) return undefined;
    const devfn = (step.device << 3) | step.function;
    if (i === scope.path.length - 1) return resolver.exists(segment, bus, devfn) ? { bus, devfn } : undefined;
    const range = resolver.bridgeRange(segment, bus, devfn);
    if (!range) return undefined;
    bus = range.secondary;
  }
  return undefined;
}

/** the present PCI functions a unit's scopes name, in scope order */
export function dmarScopeDevices(unit: DmarUnit, resolver: PciResolver): PciLocation[] {
  const found: PciLocation[] = [];
  for (const scope of unit.drhd.scopes) {
    const at = resolveDmarScope(scope, unit.segment, resolver);
    if (at && !found.some((f) => f.bus === at.bus && f.devfn === at.devfn)) found.push(at);
  }
  return found;
}

/**
 * Linux ignores a unit without INCLUDE_PCI_ALL when none of its scopes
 * holds a present device (init_no_remapping_devices). A device named by
 * several units is recorded only in the first of them in list order
 * (dmar_pci_bus_add_dev), so it keeps only that one alive. ACPI namespace
 * devices cannot be resolved here and count as absent.
 */
export function isDmarUnitIgnored(units: readonly DmarUnit[], unit: DmarUnit, resolver: PciResolver): boolean {
  if (unit.includeAll) return false;
  const earlier: DmarUnit[] = [];
  for (const u of units) {
    if (u === unit) break;
    if (!u.includeAll && u.segment === unit.segment) earlier.push(u);
  }
  const same = (a: PciLocation) => (b: PciLocation) => a.bus === b.bus && a.devfn === b.devfn;
  return !dmarScopeDevices(unit, resolver).some(
    (dev) => !earlier.some((u) => dmarScopeDevices(u, resolver).some(same(dev))),
  );
}

/**
 * The unit that claims a PCI function (device_to_iommu): units are tried in
 * list order, ignored units and other segments skipped. A unit claims the
 * function when one of its scopes resolves to it, or to a bridge whose
 * secondary..subordinate range holds its bus; a VF is looked up through its
 * PF. An INCLUDE_PCI_ALL unit claims whatever of its segment is left.
 */
export function claimDmar(units: readonly DmarUnit[], resolver: PciResolver, fn: PciFunctionRef): DmarUnit | undefined {
  const lookup: PciLocation = fn.physfn ?? fn;
  for (const unit of units) {
    if (unit.segment !== fn.segment) continue;
    if (isDmarUnitIgnored(units, unit, resolver)) continue;
    for (const dev of dmarScopeDevices(unit, resolver)) {
      if (dev.bus === lookup.bus && dev.devfn === lookup.devfn) return unit;
      const range = resolver.bridgeRange(unit.segment, dev.bus, dev.devfn);
      if (range && range.secondary <= lookup.bus && lookup.bus <= range.subordinate) return unit;
    }
    if (unit.includeAll) return unit;
  }
  return undefined;
}

// ---------------------------------------------------------------- AMD-Vi

export interface IvrsUnit {
  /** Linux's amd_iommu index: position among the IVHDs of the used type */
  readonly index: number;
  /** `ivhd<index>`, the name under /sys/class/iommu */
  readonly name: string;
  readonly segment: number;
  /** the IOMMU's own requester ID; never claimed by its own unit */
  readonly iommuBdf: number;
  readonly type: number;
  /** last_bdf of the unit's segment: the largest devid any used IVHD of the segment names */
  readonly lastDevid: number;
  /** PCI devids the IVHD gives settings to (sorted, merged) */
  readonly devids: readonly DevidRange[];
  /** IOAPIC / HPET / ACPI-HID devids; Linux also points their rlookup entry at this unit */
  readonly specials: readonly IvhdSpecialDevice[];
  readonly ivhd: IvrsIvhd;
}

/**
 * The AMD-Vi units in IVHD (table) order: the IVHDs of the type Linux uses.
 * Empty when Linux would not bring AMD-Vi up from this table (the used type
 * is not an IVHD type, or a special entry has an unknown variety).
 */
export function ivrsUnits(table: IvrsTable): IvrsUnit[] {
  const used = table.usedIvhdType;
  if (used === undefined || !isIvhdType(used)) return [];
  const blocks = table.blocks.filter((b): b is IvrsIvhd => b.kind === "ivhd" && b.type === used);
  if (blocks.some((b) => b.derived.fatal)) return [];

  const lastBySegment = new Map<number, number>();
  for (const b of blocks) {
    const last = b.derived.lastDevid;
    if (last === undefined) continue;
    lastBySegment.set(b.segment, Math.max(last, lastBySegment.get(b.segment) ?? -1));
  }
  return blocks.map((b, index) => ({
    index,
    name: `ivhd${index}`,
    segment: b.segment,
    iommuBdf: b.iommuBdf,
    type: b.type,
    lastDevid: lastBySegment.get(b.segment) ?? -1,
    devids: b.derived.devids,
    specials: b.derived.specials,
    ivhd: b,
  }));
}

/** true when the unit's IVHD writes the devid's rlookup entry */
export function ivrsUnitDescribes(unit: IvrsUnit, devid: number): boolean {
  return rangesContain(unit.devids, devid) || unit.specials.some((s) => s.devid === devid);
}

/**
 * The unit that claims a requester ID (check_device / rlookup_amd_iommu).
 * Units write their rlookup entries in table order, so a later unit
 * describing the same devid wins; after its entries each unit clears the
 * entry of its own BDF. A devid above the segment's last_bdf is not claimed.
 */
export function claimIvrs(units: readonly IvrsUnit[], rid: number, segment: number): IvrsUnit | undefined {
  let owner: IvrsUnit | undefined;
  for (const unit of units) {
    if (unit.segment !== segment) continue;
    if (ivrsUnitDescribes(unit, rid)) owner = unit;
    if (unit.iommuBdf === rid) owner = undefined;
  }
  if (!owner || rid > owner.lastDevid) return undefined;
  return owner;
}
