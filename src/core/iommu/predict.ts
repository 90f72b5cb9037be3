import { parseCmdline } from "../kernel/cmdline.js";
import type { KernelParams } from "../kernel/cmdline.js";
import { rootOrderMessages } from "../kernel/messages.js";
import { STABLE_FIXES, hasStableFix } from "../kernel/stable-fixes.js";
import { DEFAULT_KERNEL, parseKernelRelease } from "../kernel/version.js";
import type { KernelVersion } from "../kernel/version.js";
import { acsQuirkAnswer, applyAliasQuirks, parseAcsOverride } from "../quirks/index.js";
import type { AcsOverride, QuirkEffects } from "../quirks/index.js";
import { PCI_EXP_TYPE_ROOT_PORT } from "../regs/express.js";
import type { Snapshot } from "../sources/snapshot.js";
import { ntbProxies, ntbWarnings } from "../switchtec/ntb-prediction.js";
import type { NtbProxy } from "../switchtec/ntb-prediction.js";
import { devId, devfnOf, formatBdf } from "../topology/address.js";
import type { AcsState, PciFunction, Topology } from "../topology/model.js";
import { AcsEvaluator, effectiveAcsCtrl } from "./acs.js";
import type { AcsCtrlMode, AcsCtrlResult } from "./acs.js";
import { NO_ALIAS_PROPS } from "./dma-alias.js";
import type { AliasProps, PropsLookup } from "./dma-alias.js";
import { predictGroups } from "./groups.js";
import type { GroupPrediction } from "./groups.js";
import { formatLayoutInference } from "../messages.js";
import { iommuLayout, ivrsSameBusAliases } from "./units.js";
import type { IommuLayout, UngroupedReason } from "./units.js";
import { parseIort } from "../acpi/index.js";
import { arm64ProbeOrder, resolveArch, resolveFirmware, streamMap, streamRefusals } from "./arm64.js";
import type { Arch, ArchFrom, Arm64Probe, ArmFirmware, FirmwareFrom, StreamMap, StreamRefusal } from "./arm64.js";
import type { GroupStep } from "./groups.js";

/** a what-if change to one function's ACS registers (`--acs BDF=+RR-CR`) */
export interface AcsEdit {
  readonly bdf: string;
  readonly set: number;
  readonly clear: number;
}

export interface PredictOptions {
  /** kernel release to model; default: the source's osrelease, else 6.1 */
  readonly kernel?: KernelVersion | undefined;
  /** kernel command line; default: the source's /proc/cmdline */
  readonly cmdline?: string | undefined;
  /** "captured": ACS control as read; "boot": modelled from the kernel's boot enabling (designs, --boot, changed parameters) */
  readonly acsMode?: AcsCtrlMode | undefined;
  readonly acsEdits?: readonly AcsEdit[] | undefined;
  /** fire quirk rows that are only proposed upstream */
  readonly includeProposed?: boolean | undefined;
  /** false: a kernel without the DMA-alias quirks (IVRS aliases, from firmware, stay) */
  readonly aliasQuirks?: boolean | undefined;
  /**
   * Switchtec NT functions were hot-added: the quirk's proxy aliases (a
   * final fixup) are set after the group exists, so they are programmed but
   * do not count for grouping (kernel-spec §5.6). Default: at boot, they count.
   */
  readonly hotplug?: boolean | undefined;
  /** the machine's architecture; default: the source's (recorded arch, IORT, arm64-only vendors), else x86 */
  readonly arch?: Arch | undefined;
  /** arm64: how the firmware describes the machine; default: the source's, else ACPI */
  readonly firmware?: ArmFirmware | undefined;
  /** arm64 what-if: drivers bound to functions that have none yet (`--bind BDF=DRIVER`) */
  readonly binds?: ReadonlyMap<string, string> | undefined;
}

/** what an arm64 prediction rests on */
export interface Arm64Facts {
  readonly archFrom: ArchFrom;
  readonly firmware: ArmFirmware;
  readonly firmwareFrom: FirmwareFrom;
  readonly probe: Arm64Probe;
  readonly streams: StreamMap;
  readonly refusals: ReadonlyMap<string, StreamRefusal>;
  /** group numbers rest on an order the source cannot show (lspci: host bridge and module order) */
  readonly numbersAssumed: boolean;
}

export interface Prediction {
  readonly topology: Topology;
  readonly kernel: KernelVersion;
  readonly kernelFrom: "option" | "source" | "default";
  readonly params: KernelParams;
  readonly override: AcsOverride | undefined;
  readonly acsMode: AcsCtrlMode;
  readonly layout: IommuLayout;
  readonly quirks: ReadonlyMap<string, QuirkEffects>;
  /** Switchtec NT functions the quirk fired on: proxy aliases from registers, a design, or unknown */
  readonly ntb: ReadonlyMap<string, NtbProxy>;
  readonly props: PropsLookup;
  readonly ctrl: AcsCtrlResult;
  readonly acs: AcsEvaluator;
  readonly groups: GroupPrediction;
  readonly warnings: readonly string[];
  /** set when the machine is arm64 */
  readonly arm64?: Arm64Facts | undefined;
}

function applyAcsEdits(topology: Topology, edits: readonly AcsEdit[]): Topology {
  if (edits.length === 0) return topology;
  const functions = new Map(topology.functions);
  for (const e of edits) {
    const f = functions.get(e.bdf);
    if (!f) continue;
    // the capability gains the flags; control is edited after the boot model (predict)
    const acs: AcsState = f.acs.state === "present" ? { ...f.acs, cap: f.acs.cap | e.set } : { state: "present", offset: 0, cap: e.set, ctrl: e.set };
    functions.set(e.bdf, { ...f, acs });
  }
  return { ...topology, functions };
}

/** the control values after `--acs` edits (the same map when there are none) */
function editedCtrl(topology: Topology, ctrl: ReadonlyMap<string, number>, edits: readonly AcsEdit[]): ReadonlyMap<string, number> {
  if (edits.length === 0) return ctrl;
  const edited = new Map(ctrl);
  for (const e of edits) {
    const f = topology.functions.get(e.bdf);
    if (f?.acs.state === "present") edited.set(e.bdf, ((edited.get(e.bdf) ?? f.acs.ctrl) | e.set) & ~e.clear);
  }
  return edited;
}

/** ACS_ENABLED_QUIRK for an Intel PCH root port: the enable hook ran and RCBA was on (kernel-spec §4.6) */
function pchQuirkEnabled(topology: Topology, kernel: KernelVersion, acsWanted: boolean): (fn: PciFunction) => boolean {
  // 6.11.0–6.11.6 called the hook only for ports with an ACS capability, which PCH ports lack
  const regression = hasStableFix(kernel, STABLE_FIXES.acsQuirkEnable) === "no";
  return (fn) => {
    if (!acsWanted || regression) return false;
    const lpc = topology.functions.get(formatBdf(fn.segment, fn.bus, devfnOf(31, 0)));
    const bytes = lpc?.config?.bytes;
    if (!bytes || bytes.byteLength < 0xf4) return true; // RCBA not captured: assume firmware enabled it
    return (bytes[0xf0]! & 1) === 1;
  };
}

/** what the group numbers assume about the order of several root buses, when the source cannot show it */
function rootOrderWarning(snapshot: Snapshot, topology: Topology): string | undefined {
  if (snapshot.source === "design" || topology.roots.length < 2) return undefined;
  const acpi = topology.roots.map((k) => snapshot.rootBuses?.get(k));
  if (acpi.some((a) => a === undefined)) return rootOrderMessages.busNumberOrder(topology.roots.length, snapshot.source);
  const hids = new Set(acpi.map((a) => a!.hid));
  return hids.size > 1 ? rootOrderMessages.mixedHids([...hids].sort()) : undefined;
}

/**
 * Everything the kernel derives before and while grouping: quirks, IVRS
 * aliases, ACS control, IOMMU units, then pci_device_group over the probe
 * passes.
 */
export function predict(snapshot: Snapshot, opts: PredictOptions = {}): Prediction {
  const warnings: string[] = [];
  const release = snapshot.osrelease ? parseKernelRelease(snapshot.osrelease, snapshot.kernelVersion) : undefined;
  const fromSource = release?.version;
  const kernel = opts.kernel ?? fromSource ?? DEFAULT_KERNEL;
  if (!opts.kernel && release?.distro) warnings.push(release.distro.note);
  const kernelFrom = opts.kernel ? "option" : fromSource ? "source" : "default";
  const params = parseCmdline(opts.cmdline ?? snapshot.cmdline ?? "");
  const override = params.pcieAcsOverride !== undefined ? parseAcsOverride(params.pcieAcsOverride) : undefined;
  if (override) warnings.push(...override.warnings);
  const topology = applyAcsEdits(snapshot.topology, opts.acsEdits ?? []);

  const archChoice = resolveArch(snapshot, opts.arch);
  const fw = archChoice.arch === "arm64" ? resolveFirmware(snapshot, opts.firmware) : undefined;
  const iort = archChoice.arch === "arm64" && snapshot.acpi.iort ? parseIort(snapshot.acpi.iort) : undefined;
  const probe =
    archChoice.arch === "arm64"
      ? arm64ProbeOrder(topology, { binds: opts.binds ?? new Map(), kernel, modules: snapshot.platform?.modules, driverModules: snapshot.platform?.driverModules })
      : undefined;
  const streams = archChoice.arch === "arm64" ? streamMap(topology, iort) : undefined;
  for (const b of opts.binds?.keys() ?? []) {
    if (archChoice.arch !== "arm64") warnings.push(`--bind ${b}: only arm64 forms groups at driver probe; ignored on x86`);
    else if (!topology.functions.has(b)) warnings.push(`--bind ${b}: no such function in the source; ignored`);
  }
  const layout =
    probe && streams
      ? arm64Layout(topology, probe, streams, iort, params.iommuOff)
      : // lspci text never carries the ACPI tables: infer what the platform implies
      iommuLayout(topology, snapshot.acpi, { kernel, iommuOff: params.iommuOff, inferPlatform: snapshot.source === "lspci" });
  // arm64: IORT requests ACS before the scan; a device tree only when the first device is configured, after it (kernel-spec §4.4)
  const acsWanted = !params.iommuOff && layout.units.length > 0 && (fw === undefined || fw.firmware === "acpi");

  const quirks = applyAliasQuirks(topology, { kernel, includeProposed: opts.includeProposed, ...(opts.aliasQuirks === false && { rows: [] }) });
  const ivrsAliases = layout.ivrs ? ivrsSameBusAliases(topology, layout.ivrs) : new Map<string, number>();
  const ntb = ntbProxies(quirks, snapshot.ntb, { source: snapshot.source, kernel });
  for (const [bdf, n] of ntb) warnings.push(...ntbWarnings(bdf, n, opts.hotplug));
  const props = new Map<string, AliasProps>();
  // hot-added NT functions: the same props without the proxy aliases, for grouping only
  const groupProps = new Map<string, AliasProps>();
  // only functions a quirk or the IVRS table touched have props
  for (const bdf of new Set([...quirks.keys(), ...ivrsAliases.keys()])) {
    const f = topology.functions.get(bdf);
    if (!f) continue;
    const q = quirks.get(f.bdf);
    const iv = ivrsAliases.get(f.bdf);
    if (!q && iv === undefined) continue;
    const causes = new Map<number, string>();
    for (const [d, row] of q?.aliasCauses ?? []) causes.set(d, row);
    const proxy = ntb.get(f.bdf);
    for (const d of proxy?.result?.devfns ?? []) if (!causes.has(d)) causes.set(d, proxy!.rowId);
    if (iv !== undefined && !causes.has(iv)) causes.set(iv, "ivrs");
    const toProps = (c: Map<number, string>): AliasProps => ({
      aliasDevfns: [...c.keys()].sort((a, b) => a - b),
      aliasCauses: c,
      pcieBridgeAlias: q?.pcieBridgeAlias ?? false,
      xlateRoot: q?.xlateRoot ?? false,
    });
    props.set(f.bdf, toProps(causes));
    if (opts.hotplug && proxy) groupProps.set(f.bdf, toProps(new Map([...causes].filter(([d, c]) => c !== proxy.rowId || d === iv))));
  }
  const lookup: PropsLookup = (bdf) => props.get(bdf) ?? NO_ALIAS_PROPS;
  const groupLookup: PropsLookup = groupProps.size === 0 ? lookup : (bdf) => groupProps.get(bdf) ?? lookup(bdf);

  const acsMode: AcsCtrlMode = opts.acsMode ?? (snapshot.source === "design" ? "boot" : "captured");
  const ctrl = effectiveAcsCtrl(topology, {
    mode: acsMode,
    params,
    kernel,
    acsWanted,
  });
  warnings.push(...ctrl.warnings);
  const ctrlMap = editedCtrl(topology, ctrl.ctrl, opts.acsEdits ?? []);
  const pch = pchQuirkEnabled(topology, kernel, acsWanted);
  const acs = new AcsEvaluator(topology, ctrlMap, (fn, req) =>
    acsQuirkAnswer(fn, req, {
      topology,
      ivrsPresent: snapshot.acpi.ivrs !== undefined,
      pchQuirkEnabled: (f) => f.isPcie && f.pcieType === PCI_EXP_TYPE_ROOT_PORT && pch(f),
      override,
      kernel,
      rawConfig: (f) => f.config?.bytes,
      // modelled control (boot, edits): Sunrise Point ports read it instead of their +0x08 dword
      ...((acsMode === "boot" || (opts.acsEdits?.length ?? 0) > 0) && { acsCtrl: (f: PciFunction) => ctrlMap.get(f.bdf) }),
    }),
  );
  let passes = layout.passes;
  let ungrouped = layout.ungrouped;
  const refusals = probe && streams && !params.iommuOff ? streamRefusals(topology, groupLookup, passes, streams, kernel) : new Map<string, StreamRefusal>();
  if (refusals.size > 0) {
    passes = passes.map((pass) => pass.filter((b) => !refusals.has(b)));
    const u = new Map<string, UngroupedReason>(ungrouped);
    for (const b of refusals.keys()) u.set(b, "stream-conflict");
    ungrouped = u;
  }
  const sparseProps = groupProps.size === 0 ? props : new Map([...props, ...groupProps]);
  let groups = predictGroups({ topology, props: groupLookup, acs, passes, ungrouped, refusals, sparseProps });
  let arm64: Arm64Facts | undefined;
  if (probe && streams && fw) {
    groups = withProbeSteps(groups, probe);
    const numbersAssumed = snapshot.source === "lspci" || (probe.moduleOrderFrom === "assumed" && probe.moduleOrder.length > 1 && snapshot.source !== "design");
    arm64 = { archFrom: archChoice.from, firmware: fw.firmware, firmwareFrom: fw.from, probe, streams, refusals, numbersAssumed };
    warnings.push(...arm64Warnings(arm64, acsMode, snapshot.source));
  }
  const rootOrder = rootOrderWarning(snapshot, topology);
  if (rootOrder !== undefined) warnings.push(rootOrder);
  if (layout.kind === "assumed" && !params.iommuOff && !layout.inferences?.length) warnings.push("no DMAR or IVRS table in the source: assuming one IOMMU that covers every function");
  for (const i of layout.inferences ?? []) warnings.push(formatLayoutInference(i));
  return {
    topology,
    kernel,
    kernelFrom,
    params,
    override,
    acsMode,
    layout:
      ungrouped === layout.ungrouped
        ? layout
        : { ...layout, passes, ungrouped, units: layout.units.map((u) => ({ ...u, functions: u.functions.filter((b) => !refusals.has(b)) })) },
    quirks,
    ntb,
    props: lookup,
    ctrl: { ...ctrl, ctrl: ctrlMap },
    acs,
    groups,
    warnings,
    ...(arm64 && { arm64 }),
  };
}

/**
 * arm64: one SMMU unit per IORT SMMU node (or one per segment, StreamID =
 * requester ID), covering the functions a driver probe reaches, in probe
 * order; the rest have no group.
 */
function arm64Layout(topology: Topology, probe: Arm64Probe, streams: StreamMap, iort: IommuLayout["iort"], iommuOff: boolean): IommuLayout {
  const ungrouped = new Map<string, UngroupedReason>();
  const acpiIssues = iort?.issues ?? [];
  if (iommuOff) {
    for (const b of topology.scanOrder) ungrouped.set(b, "iommu-off");
    return { kind: "smmuv3", units: [], passes: [], ungrouped, dmar: undefined, ivrs: undefined, iort, acpiIssues };
  }
  for (const b of probe.unprobed) ungrouped.set(b, "no-driver");
  const unitOf = (b: string): string | undefined => {
    const f = topology.functions.get(b)!;
    return streams.sidOf(f.segment, devId(f.bus, f.devfn))?.unit;
  };
  const passes = probe.passes.map((pass) =>
    pass.filter((b) => {
      if (unitOf(b) !== undefined) return true;
      ungrouped.set(b, "not-covered");
      return false;
    }),
  );
  const order = passes.flat();
  const units = streams.units.map((name) => ({ name, kind: "smmuv3" as const, functions: order.filter((b) => unitOf(b) === name) }));
  return { kind: "smmuv3", units, passes, ungrouped, dmar: undefined, ivrs: undefined, iort, acpiIssues };
}

/** arm64: each grouped function's explanation starts with when its driver probe set it up */
function withProbeSteps(groups: GroupPrediction, probe: Arm64Probe): GroupPrediction {
  const phase = (b: string): "scan" | "modules" | "vfs" | "add" =>
    probe.atAdd ? "add" : probe.passes[0]!.includes(b) ? "scan" : probe.passes[2]!.includes(b) ? "vfs" : "modules";
  const steps = new Map<string, readonly GroupStep[]>();
  for (const [b, trail] of groups.steps) {
    const h = probe.how.get(b);
    if (!h || !groups.groupOf.has(b)) steps.set(b, trail);
    else steps.set(b, [{ code: "arm-probe", at: b, how: h.how, driver: h.driver, phase: phase(b), orderFrom: probe.moduleOrderFrom }, ...trail]);
  }
  return { ...groups, steps };
}

function arm64Warnings(a: Arm64Facts, acsMode: AcsCtrlMode, source: Snapshot["source"]): string[] {
  const out: string[] = [];
  if (a.archFrom === "vendor") out.push("no architecture recorded: host bridges of an arm64-only vendor (Ampere, HiSilicon, Cavium) say arm64");
  if (a.probe.atAdd) return out;
  if (a.probe.driversAssumed) out.push("arm64: the source does not say which drivers are bound (lspci without -k): every function is assumed bound");
  else if (source === "lspci") {
    const bound = [...a.probe.how.values()].filter((h) => h.how === "driver").length;
    out.push(`arm64: taken as bound: the ${bound} functions with a 'Kernel driver in use:' line, and every PCI bridge (probed by the port driver during the scan)`);
  }
  if (a.probe.unprobed.length > 0) {
    out.push(`arm64: groups exist only for functions a driver probed; no driver on ${a.probe.unprobed.join(", ")}, so no group (--bind BDF=DRIVER to see one bound)`);
  }
  const mods = a.probe.moduleOrder;
  if (mods.length > 1 && a.probe.moduleOrderFrom === "assumed") {
    out.push(`arm64: group numbers after the bridges follow module load order, which the source does not record; assumed: ${mods.join(", ")} (each loading when its first function is found)`);
  }
  if (acsMode === "boot") {
    out.push(
      a.firmware === "devicetree"
        ? "arm64, device tree: the kernel requests ACS only when the first device is configured, after the scan, so no port has ACS enabled at boot"
        : `arm64, ACPI IORT${a.firmwareFrom === "assumed" ? " (assumed: no IORT and no device tree recorded)" : ""}: ACS is requested before the scan, so ports enable it`,
    );
  }
  return out;
}
