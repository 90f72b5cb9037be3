/**
 * How arm64 Linux forms IOMMU groups (kernel-spec §5.5 "DT/ACPI-IORT ARM
 * systems", §7.3, §4.4): an SMMU sets a PCI function up when a driver's
 * probe is attempted on it (really_probe → pci_dma_configure → IORT or
 * of_iommu → iommu_probe_device), not when the function is found. So:
 *
 * - only functions a driver probe was attempted on have a group; the host
 *   bridge (class 0600, no driver) never has one;
 * - numbers follow that probe order: PCI bridges first, in scan order, as
 *   the built-in port driver's ID table (class 0604 prog-if 00/01, RCEC
 *   0807) matches them when the bus is added (its probe then rejects what
 *   is not a PCIe port, but the group exists already: a PCIe-to-PCI bridge
 *   without a driver has one); then functions as their modules load;
 * - ACS: an IORT table makes the kernel request ACS before the scan
 *   (enabled, as on x86); a device tree requests it only when the first
 *   device is configured, after the scan, so no port has ACS enabled;
 * - SMMUv3 keeps one master per StreamID: a function whose StreamIDs
 *   (own requester ID and every DMA alias, mapped through IORT or the
 *   iommu-map) include one another master already holds is refused ("stream
 *   already in tree") and has no group, its driver binding anyway.
 */
import { iortMapId, iortRootComplex, iortSmmus } from "../acpi/index.js";
import type { IortTable } from "../acpi/index.js";
import { atLeast } from "../kernel/version.js";
import type { KernelVersion } from "../kernel/version.js";
import type { Snapshot } from "../sources/snapshot.js";
import type { PciFunction, Topology } from "../topology/model.js";
import { forEachDmaAlias } from "./dma-alias.js";
import type { PropsLookup } from "./dma-alias.js";

export type Arch = "x86" | "arm64";
export type ArmFirmware = "acpi" | "devicetree";

/** where the architecture was learnt */
export type ArchFrom = "option" | "source" | "iort" | "vendor" | "default";
/** where the arm64 firmware description was learnt */
export type FirmwareFrom = "option" | "iort" | "source" | "assumed";

/** vendors whose PCI host bridges and root ports exist only in arm64 servers (Ampere, HiSilicon, Cavium/Marvell ThunderX) */
const ARM64_ONLY_VENDORS = new Set([0x1def, 0x19e5, 0x177d]);

export function resolveArch(snapshot: Snapshot, option: Arch | undefined): { arch: Arch; from: ArchFrom } {
  if (option) return { arch: option, from: "option" };
  const recorded = snapshot.platform?.arch;
  if (recorded) return { arch: /^(aarch64|arm64)/.test(recorded) ? "arm64" : "x86", from: "source" };
  if (snapshot.acpi.iort) return { arch: "arm64", from: "iort" };
  if (snapshot.acpi.dmar || snapshot.acpi.ivrs) return { arch: "x86", from: "default" };
  for (const f of snapshot.topology.functions.values()) {
    const cls = f.classCode >> 8;
    if (ARM64_ONLY_VENDORS.has(f.vendor) && (cls === 0x0600 || cls === 0x0604)) return { arch: "arm64", from: "vendor" };
  }
  return { arch: "x86", from: "default" };
}

export function resolveFirmware(snapshot: Snapshot, option: ArmFirmware | undefined): { firmware: ArmFirmware; from: FirmwareFrom } {
  if (option) return { firmware: option, from: "option" };
  if (snapshot.acpi.iort) return { firmware: "acpi", from: "iort" };
  const recorded = snapshot.platform?.firmware;
  if (recorded) return { firmware: recorded, from: "source" };
  return { firmware: "acpi", from: "assumed" };
}

/** PCI_CLASS_BRIDGE_PCI_NORMAL, PCI_CLASS_BRIDGE_PCI_SUBTRACTIVE, RCEC: the port driver's ID table */
const PORT_DRIVER_CLASSES = new Set([0x060400, 0x060401, 0x080700]);

/** the built-in port driver's ID table matches it, so its probe is attempted while the bus is added */
export const portDriverMatches = (f: PciFunction): boolean => PORT_DRIVER_CLASSES.has(f.classCode);

/** how a function came to be probed */
export type ProbeHow = "port-driver" | "driver" | "bind" | "assumed";

export interface Arm64Probe {
  /** probe order: [bridges at the scan, functions as modules load, VFs as they are created] */
  readonly passes: readonly (readonly string[])[];
  /** functions no driver probe reaches: no group */
  readonly unprobed: readonly string[];
  readonly how: ReadonlyMap<string, { readonly how: ProbeHow; readonly driver: string | undefined }>;
  /** drivers in the order their functions were probed after the scan */
  readonly moduleOrder: readonly string[];
  /** where that order comes from: the source's module load order (proc/modules), or assumed (first function found) */
  readonly moduleOrderFrom: "proc-modules" | "assumed";
  /** true when no function in the source says whether a driver is bound (lspci without -k): every function is assumed bound */
  readonly driversAssumed: boolean;
  /** the kernel sets devices up when they are added (≈6.15), not at driver probe: scan order, every function */
  readonly atAdd: boolean;
}

/**
 * The order arm64 Linux probes functions for the SMMU: bridges during the
 * scan, then by driver: built-in drivers (no module) first, then modules in
 * load order when the source records it (a capture's proc/modules with each
 * driver's module link), else assumed to load when the first function they
 * drive is found (scan order); each driver binds its functions in scan
 * order; VFs, created later by writing sriov_numvfs, come last, each
 * taken as probed (see below) whether or not a driver is bound. `binds`
 * adds what-if bindings (`--bind BDF=DRIVER`).
 */
export function arm64ProbeOrder(
  topology: Topology,
  opts: {
    binds: ReadonlyMap<string, string>;
    kernel: KernelVersion;
    modules?: readonly string[] | undefined;
    driverModules?: ReadonlyMap<string, string> | undefined;
  },
): Arm64Probe {
  const scan = topology.scanOrder.filter((b) => topology.functions.get(b)?.scanned !== false);
  const how = new Map<string, { how: ProbeHow; driver: string | undefined }>();
  // ≈6.15 ("iommu: Get DT/ACPI parsing into the proper probe path"): configured when added, like x86
  if (atLeast(opts.kernel, 6, 15)) {
    for (const b of scan) how.set(b, { how: "assumed", driver: topology.functions.get(b)!.driver });
    return { passes: [scan], unprobed: [], how, moduleOrder: [], moduleOrderFrom: "assumed", driversAssumed: false, atAdd: true };
  }
  const driversKnown = [...topology.functions.values()].some((f) => f.driver !== undefined) || opts.binds.size > 0;
  const ports: string[] = [];
  const byModule = new Map<string, string[]>();
  const vfs: string[] = [];
  const unprobed: string[] = [];
  for (const b of scan) {
    const f = topology.functions.get(b)!;
    const driver = opts.binds.get(b) ?? f.driver;
    if (portDriverMatches(f)) {
      ports.push(b);
      how.set(b, { how: "port-driver", driver: driver ?? undefined });
    } else if (f.isVirtfn) {
      // a VF exists because its PF's driver enabled SR-IOV; with sriov_drivers_autoprobe a driver's
      // probe is attempted on it when it is added (a failed probe leaves no driver link, but the group)
      vfs.push(b);
      how.set(b, { how: opts.binds.has(b) ? "bind" : driver !== undefined ? "driver" : "assumed", driver });
    } else if (driver !== undefined || !driversKnown) {
      const key = driver ?? "(driver)";
      how.set(b, { how: opts.binds.has(b) ? "bind" : driver !== undefined ? "driver" : "assumed", driver });
      const list = byModule.get(key) ?? [];
      list.push(b);
      byModule.set(key, list);
    } else unprobed.push(b);
  }
  // drivers by load position: built-in (no module link) first, then proc/modules order, unknown last; ties: first found
  const loaded = opts.modules;
  const rank = (driver: string): number => {
    if (!loaded) return 0;
    const mod = opts.driverModules?.get(driver);
    if (mod === undefined) return opts.binds.size > 0 && [...opts.binds.values()].includes(driver) && !topologyHasDriver(topology, driver) ? loaded.length + 1 : -1;
    const i = loaded.indexOf(mod);
    return i < 0 ? loaded.length : i;
  };
  const order = [...byModule.keys()].map((d, i) => ({ d, i, r: rank(d) })).sort((a, b) => a.r - b.r || a.i - b.i);
  const modules = order.flatMap(({ d }) => byModule.get(d)!);
  return {
    passes: [ports, modules, vfs],
    unprobed,
    how,
    moduleOrder: order.map(({ d }) => d),
    moduleOrderFrom: loaded ? "proc-modules" : "assumed",
    driversAssumed: !driversKnown,
    atAdd: false,
  };
}

const topologyHasDriver = (topology: Topology, driver: string): boolean => [...topology.functions.values()].some((f) => f.driver === driver);

/** where a requester ID's DMA lands: an SMMU instance and StreamID */
export interface StreamTarget {
  readonly unit: string;
  readonly sid: number;
}

/** the SMMU units and how requester IDs map to StreamIDs: from IORT, else one SMMU per segment with StreamID = requester ID */
export interface StreamMap {
  readonly units: readonly string[];
  readonly from: "iort" | "identity";
  sidOf(segment: number, rid: number): StreamTarget | undefined;
}

export function streamMap(topology: Topology, iort: IortTable | undefined): StreamMap {
  if (iort && iortSmmus(iort).length > 0) {
    const smmus = iortSmmus(iort);
    // the names Linux registers them under (/sys/class/iommu)
    const names = new Map(smmus.map((s) => [s.offset, `${s.kind === "smmuv3" ? "smmu3" : "smmu"}.0x${s.base.toString(16).padStart(16, "0")}`]));
    return {
      units: smmus.map((s) => names.get(s.offset)!),
      from: "iort",
      sidOf(segment, rid) {
        const rc = iortRootComplex(iort, segment);
        if (!rc) return undefined;
        const r = iortMapId(iort, rc, rid);
        return r.kind === "smmu" ? { unit: names.get(r.smmu.offset)!, sid: r.streamId } : undefined;
      },
    };
  }
  const segments = [...new Set([...topology.functions.values()].map((f) => f.segment))].sort((a, b) => a - b);
  const unitName = (segment: number): string => (segments.length > 1 ? `smmu${segment.toString(16)}` : "smmu");
  return { units: segments.map(unitName), from: "identity", sidOf: (segment, rid) => ({ unit: unitName(segment), sid: rid }) };
}

/** why the SMMUv3 driver refused a function */
export interface StreamRefusal {
  readonly sid: number;
  readonly unit: string;
  /** the master holding it; undefined: the function's own alias walk gave that StreamID twice */
  readonly heldBy: string | undefined;
}

/** ≈6.8: arm_smmu_insert_master skips a StreamID the same master already holds (bridged PCI devices) */
export const sameMasterDuplicatesAllowed = (kernel: KernelVersion): boolean => atLeast(kernel, 6, 8);

/**
 * Replays arm_smmu_insert_master over the probe order: each function's
 * StreamIDs (every DMA alias through the stream map) go into the SMMU's
 * StreamID tree; one already held by another master, or (before ≈6.8) twice
 * by the same one, fails the probe: no group, and nothing of it stays in
 * the tree.
 */
export function streamRefusals(
  topology: Topology,
  props: PropsLookup,
  passes: readonly (readonly string[])[],
  map: StreamMap,
  kernel: KernelVersion,
): Map<string, StreamRefusal> {
  const held = new Map<string, string>();
  const refused = new Map<string, StreamRefusal>();
  const dupOk = sameMasterDuplicatesAllowed(kernel);
  for (const pass of passes) {
    for (const bdf of pass) {
      const f = topology.functions.get(bdf);
      if (!f || refused.has(bdf)) continue;
      const sids: StreamTarget[] = [];
      forEachDmaAlias(topology, props, f, (_p, alias) => {
        const t = map.sidOf(f.segment, alias.rid);
        if (t) sids.push(t);
        return undefined;
      });
      const mine = new Set<string>();
      let refusal: StreamRefusal | undefined;
      for (const t of sids) {
        const key = `${t.unit}/${t.sid}`;
        const holder = held.get(key);
        if (holder !== undefined && holder !== bdf) {
          refusal = { sid: t.sid, unit: t.unit, heldBy: holder };
          break;
        }
        if (mine.has(key) && !dupOk) {
          refusal = { sid: t.sid, unit: t.unit, heldBy: undefined };
          break;
        }
        mine.add(key);
      }
      if (refusal) refused.set(bdf, refusal);
      else for (const k of mine) held.set(k, bdf);
    }
  }
  return refused;
}
