import { claimDmar, claimIvrs, dmarUnits, isDmarUnitIgnored, ivrsAliasOf, ivrsUnits, parseDmar, parseIvrs } from "../acpi/index.js";
import type { AcpiIssue, DmarTable, IortTable, IvrsTable, PciResolver } from "../acpi/index.js";
import { atLeast } from "../kernel/version.js";
import type { KernelVersion } from "../kernel/version.js";
import { busKey, devId, formatBdf } from "../topology/address.js";
import type { PciFunction, Topology } from "../topology/model.js";

/** one IOMMU unit and the functions it probes, in scan order */
export interface UnitCoverage {
  readonly name: string;
  readonly kind: IommuKind;
  readonly functions: readonly string[];
}

/**
 * "no-driver": arm64, no driver probe reached the function (the SMMU sets a
 * function up at driver probe); "stream-conflict": arm64, the SMMUv3 driver
 * refused it (a StreamID already held)
 */
export type UngroupedReason = "not-covered" | "iommu-itself" | "iommu-off" | "no-driver" | "stream-conflict";

/** AMD's and Hygon's vendor ids: a real AMD root complex */
const AMD_HOST_VENDORS: ReadonlySet<number> = new Set([0x1022, 0x1d94]);

/** "assumed": no table, one unit covering everything; "amd-inferred": no table, but an AMD IOMMU function is present */
export type IommuKind = "intel" | "amd" | "assumed" | "amd-inferred" | "smmuv3";

/** what a layout took from the platform the functions imply, without a table saying so (each is warned) */
export type LayoutInference =
  /** an AMD IOMMU function: it and AMD's root complex at 00.0 of its bus are not grouped */
  | { readonly code: "amd-iommu-function"; readonly iommu: string; readonly rootComplex: string | undefined }
  /** the AMD IOMMU sits behind a non-AMD host bridge (QEMU q35 with amd-iommu): that host bridge is grouped */
  | { readonly code: "amd-iommu-emulated"; readonly iommu: string; readonly hostBridge: string; readonly vendor: number; readonly device: number }
  /** an Intel integrated GPU at 00:02.0: client platforms give it a DRHD unit of its own, probed first */
  | { readonly code: "intel-igpu-unit"; readonly igpu: string; readonly perUnit: boolean };

export interface IommuLayout {
  readonly kind: IommuKind;
  /** inferred from the platform, no table (lspci text, designs) */
  readonly inferences?: readonly LayoutInference[];
  /** units in the order the kernel registers them */
  readonly units: readonly UnitCoverage[];
  /** probe passes: one per unit since 6.1, a single pass before */
  readonly passes: readonly (readonly string[])[];
  readonly ungrouped: ReadonlyMap<string, UngroupedReason>;
  readonly dmar: DmarTable | undefined;
  readonly ivrs: IvrsTable | undefined;
  /** arm64 with an IORT table */
  readonly iort?: IortTable | undefined;
  readonly acpiIssues: readonly AcpiIssue[];
}

/** a resolver view of the topology for ACPI scope walks */
export function topologyResolver(topology: Topology): PciResolver {
  // scope walks ask for the same few places once per function claimed: each bus is indexed by devfn once
  const byBus = new Map<string, Map<number, PciFunction>>();
  const at = (segment: number, bus: number, devfn: number): PciFunction | undefined => {
    const key = busKey(segment, bus);
    let fns = byBus.get(key);
    if (!fns) {
      byBus.set(key, (fns = new Map()));
      for (const b of topology.buses.get(key)?.functions ?? []) {
        const f = topology.functions.get(b)!;
        if (!fns.has(f.devfn)) fns.set(f.devfn, f);
      }
    }
    return fns.get(devfn);
  };
  return {
    bridgeRange(segment, bus, devfn) {
      const f = at(segment, bus, devfn);
      return f?.secondary === undefined ? undefined : { secondary: f.secondary, subordinate: f.subordinate ?? f.secondary };
    },
    exists: (segment, bus, devfn) => at(segment, bus, devfn) !== undefined,
  };
}

type LayoutOptions = { kernel: KernelVersion; iommuOff: boolean; inferPlatform?: boolean | undefined };

/** layouts already worked out per topology, for the same tables; a layout is never modified once made */
const layouts = new WeakMap<Topology, { dmar: Uint8Array | undefined; ivrs: Uint8Array | undefined; byOptions: Map<string, IommuLayout> }>();

/**
 * Which unit probes which function, and in which passes (kernel-spec §5.5,
 * §7.1–7.2). Without a DMAR or IVRS table, one unit covering everything is
 * assumed. The same topology and table bytes (by identity) under options
 * that select the same behaviour give the same layout object: predicting
 * one machine under several kernels or command lines parses and claims once.
 */
export function iommuLayout(topology: Topology, acpi: { dmar?: Uint8Array | undefined; ivrs?: Uint8Array | undefined }, opts: LayoutOptions): IommuLayout {
  let memo = layouts.get(topology);
  if (!memo || memo.dmar !== acpi.dmar || memo.ivrs !== acpi.ivrs) {
    memo = { dmar: acpi.dmar, ivrs: acpi.ivrs, byOptions: new Map() };
    layouts.set(topology, memo);
  }
  // the kernel matters only as before or since 6.1 (one probe pass, or one per unit)
  const key = `${atLeast(opts.kernel, 6, 1)}/${opts.iommuOff}/${opts.inferPlatform === true}`;
  let layout = memo.byOptions.get(key);
  if (!layout) memo.byOptions.set(key, (layout = computeLayout(topology, acpi, opts)));
  return layout;
}

function computeLayout(topology: Topology, acpi: { dmar?: Uint8Array | undefined; ivrs?: Uint8Array | undefined }, opts: LayoutOptions): IommuLayout {
  const ungrouped = new Map<string, UngroupedReason>();
  const scan = topology.scanOrder;
  if (opts.iommuOff) {
    for (const b of scan) ungrouped.set(b, "iommu-off");
    return { kind: "assumed", units: [], passes: [], ungrouped, dmar: undefined, ivrs: undefined, acpiIssues: [] };
  }
  const perUnit = (names: string[], claim: (bdf: string) => number | undefined, kind: "intel" | "amd"): IommuLayout => {
    const lists = names.map(() => [] as string[]);
    for (const b of scan) {
      const u = claim(b);
      if (u === undefined) {
        if (!ungrouped.has(b)) ungrouped.set(b, "not-covered");
      } else lists[u]!.push(b);
    }
    const units = names.map((name, i) => ({ name, kind, functions: lists[i]! }));
    // before 6.1 one pass over the scan order probed every covered device
    const passes = atLeast(opts.kernel, 6, 1) ? lists : [scan.filter((b) => !ungrouped.has(b))];
    return { kind, units, passes, ungrouped, dmar, ivrs, acpiIssues: [...(dmar?.issues ?? []), ...(ivrs?.issues ?? [])] };
  };
  const dmar = acpi.dmar ? parseDmar(acpi.dmar) : undefined;
  const ivrs = acpi.ivrs && !acpi.dmar ? parseIvrs(acpi.ivrs) : undefined;
  if (dmar) {
    const resolver = topologyResolver(topology);
    const all = dmarUnits(dmar);
    const units = all.filter((u) => !isDmarUnitIgnored(all, u, resolver));
    if (units.length > 0) {
      return perUnit(
        units.map((u) => u.name),
        (b) => {
          const f = topology.functions.get(b)!;
          const pf = f.physfn ? topology.functions.get(f.physfn) : undefined;
          const u = claimDmar(units, resolver, { segment: f.segment, bus: f.bus, devfn: f.devfn, ...(pf && { physfn: { bus: pf.bus, devfn: pf.devfn } }) });
          return u ? units.indexOf(u) : undefined;
        },
        "intel",
      );
    }
  }
  if (ivrs) {
    const units = ivrsUnits(ivrs);
    if (units.length > 0) {
      const own = new Set(units.map((u) => `${u.segment}/${u.iommuBdf}`));
      return perUnit(
        units.map((u) => u.name),
        (b) => {
          const f = topology.functions.get(b)!;
          const rid = devId(f.bus, f.devfn);
          if (own.has(`${f.segment}/${rid}`)) {
            ungrouped.set(b, "iommu-itself");
            return undefined;
          }
          const u = claimIvrs(units, rid, f.segment);
          return u ? units.indexOf(u) : undefined;
        },
        "amd",
      );
    }
  }
  // no table (lspci text, designs): an AMD IOMMU shows itself as a PCI function (class 0806);
  // real AMD machines group neither it nor the root complex at devfn 00.0 of its bus (corpus 05, 13).
  // QEMU's amd-iommu sits behind the Intel q35 host bridge, which the guest's IVRS covers: it is grouped.
  const amdIommus = [...topology.functions.values()].filter((f) => f.vendor === 0x1022 && f.classCode >> 8 === 0x0806);
  if (amdIommus.length > 0) {
    const inferences: LayoutInference[] = [];
    for (const f of amdIommus) {
      ungrouped.set(f.bdf, "iommu-itself");
      const rc = topology.functions.get(formatBdf(f.segment, f.bus, 0));
      const isHostBridge = rc !== undefined && rc.classCode >> 8 === 0x0600;
      if (isHostBridge && !AMD_HOST_VENDORS.has(rc.vendor)) {
        inferences.push({ code: "amd-iommu-emulated", iommu: f.bdf, hostBridge: rc.bdf, vendor: rc.vendor, device: rc.device });
        continue;
      }
      if (isHostBridge && !ungrouped.has(rc.bdf)) ungrouped.set(rc.bdf, "not-covered");
      inferences.push({ code: "amd-iommu-function", iommu: f.bdf, rootComplex: isHostBridge ? rc.bdf : undefined });
    }
    const covered = scan.filter((b) => !ungrouped.has(b));
    return { kind: "amd-inferred", inferences, units: [{ name: "ivhd0", kind: "amd-inferred", functions: covered }], passes: [covered], ungrouped, dmar, ivrs, acpiIssues: [] };
  }
  // Intel client platforms: the integrated GPU at 00:02.0 has a graphics-only DRHD, listed (and, on
  // kernels probing per unit, probed) before the unit that covers everything else
  const igpu = opts.inferPlatform ? topology.functions.get(formatBdf(0, 0, 0x10)) : undefined;
  const host = topology.functions.get(formatBdf(0, 0, 0));
  if (igpu && igpu.vendor === 0x8086 && igpu.classCode >> 16 === 0x03 && host?.vendor === 0x8086 && !dmar && !ivrs) {
    const rest = scan.filter((b) => b !== igpu.bdf);
    const perUnit = atLeast(opts.kernel, 6, 1);
    return {
      kind: "assumed",
      inferences: [{ code: "intel-igpu-unit", igpu: igpu.bdf, perUnit }],
      units: [
        { name: "dmar0", kind: "assumed", functions: [igpu.bdf] },
        { name: "dmar1", kind: "assumed", functions: rest },
      ],
      passes: perUnit ? [[igpu.bdf], rest] : [scan],
      ungrouped,
      dmar,
      ivrs,
      acpiIssues: [],
    };
  }
  return {
    kind: "assumed",
    units: [{ name: "iommu", kind: "assumed", functions: [...scan] }],
    passes: [scan],
    ungrouped,
    dmar,
    ivrs,
    acpiIssues: [...(dmar?.issues ?? []), ...(ivrs?.issues ?? [])],
  };
}

/** IVRS aliases on the function's own bus, which the AMD driver adds to the alias mask before grouping */
export function ivrsSameBusAliases(topology: Topology, ivrs: IvrsTable): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of topology.functions.values()) {
    const rid = devId(f.bus, f.devfn);
    const alias = ivrsAliasOf(ivrs, f.segment, rid);
    if (alias !== rid && alias >> 8 === f.bus) out.set(f.bdf, alias & 0xff);
  }
  return out;
}
