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
import { devfnOf, formatBdf } from "../topology/address.js";
import type { AcsState, PciFunction, Topology } from "../topology/model.js";
import { AcsEvaluator, effectiveAcsCtrl } from "./acs.js";
import type { AcsCtrlMode, AcsCtrlResult } from "./acs.js";
import { NO_ALIAS_PROPS } from "./dma-alias.js";
import type { AliasProps, PropsLookup } from "./dma-alias.js";
import { predictGroups } from "./groups.js";
import type { GroupPrediction } from "./groups.js";
import { formatLayoutInference } from "../messages.js";
import { iommuLayout, ivrsSameBusAliases } from "./units.js";
import type { IommuLayout } from "./units.js";

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

  // lspci text never carries the ACPI tables: infer what the platform implies
  const layout = iommuLayout(topology, snapshot.acpi, { kernel, iommuOff: params.iommuOff, inferPlatform: snapshot.source === "lspci" });
  const acsWanted = !params.iommuOff && layout.units.length > 0;

  const quirks = applyAliasQuirks(topology, { kernel, includeProposed: opts.includeProposed, ...(opts.aliasQuirks === false && { rows: [] }) });
  const ivrsAliases = layout.ivrs ? ivrsSameBusAliases(topology, layout.ivrs) : new Map<string, number>();
  const ntb = ntbProxies(quirks, snapshot.ntb, { source: snapshot.source, kernel });
  for (const [bdf, n] of ntb) warnings.push(...ntbWarnings(bdf, n, opts.hotplug));
  const props = new Map<string, AliasProps>();
  // hot-added NT functions: the same props without the proxy aliases, for grouping only
  const groupProps = new Map<string, AliasProps>();
  for (const f of topology.functions.values()) {
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
  const ctrlMap = new Map(ctrl.ctrl);
  for (const e of opts.acsEdits ?? []) {
    const f = topology.functions.get(e.bdf);
    if (f?.acs.state === "present") ctrlMap.set(e.bdf, ((ctrlMap.get(e.bdf) ?? f.acs.ctrl) | e.set) & ~e.clear);
  }
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
  const groups = predictGroups({ topology, props: groupLookup, acs, passes: layout.passes, ungrouped: layout.ungrouped });
  const rootOrder = rootOrderWarning(snapshot, topology);
  if (rootOrder !== undefined) warnings.push(rootOrder);
  if (layout.kind === "assumed" && !params.iommuOff && !layout.inferences?.length) warnings.push("no DMAR or IVRS table in the source: assuming one IOMMU that covers every function");
  for (const i of layout.inferences ?? []) warnings.push(formatLayoutInference(i));
  return { topology, kernel, kernelFrom, params, override, acsMode, layout, quirks, ntb, props: lookup, ctrl: { ...ctrl, ctrl: ctrlMap }, acs, groups, warnings };
}
