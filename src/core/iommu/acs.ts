import { PCI_ACS_CR, PCI_ACS_EC, PCI_ACS_RR, PCI_ACS_SV, PCI_ACS_UF } from "../regs/acs.js";
import { ReadonlyMapView } from "../readonly-map.js";
import {
  PCI_EXP_TYPE_DOWNSTREAM,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_TYPE_LEG_END,
  PCI_EXP_TYPE_PCIE_BRIDGE,
  PCI_EXP_TYPE_PCI_BRIDGE,
  PCI_EXP_TYPE_RC_EC,
  PCI_EXP_TYPE_RC_END,
  PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM,
} from "../regs/express.js";
import { devSpecMatches, parseDevList } from "../kernel/dev-spec.js";
import type { DevSpec } from "../kernel/dev-spec.js";
import type { KernelParams } from "../kernel/cmdline.js";
import { acsMessages } from "../kernel/messages.js";
import { STABLE_FIXES, hasStableFix } from "../kernel/stable-fixes.js";
import type { KernelVersion } from "../kernel/version.js";
import { busKey } from "../topology/address.js";
import { denseTopology } from "../topology/dense.js";
import type { DenseTopology } from "../topology/dense.js";
import type { PciFunction, Topology } from "../topology/model.js";

/** why pci_acs_enabled answered as it did for one function */
export type AcsReason =
  | { readonly kind: "quirk"; readonly rowId: string }
  | { readonly kind: "not-pcie" }
  | { readonly kind: "bridge-type"; readonly pcieType: number }
  | { readonly kind: "flags"; readonly cap: number; readonly ctrl: number; readonly missing: number }
  | { readonly kind: "no-acs-cap" }
  | { readonly kind: "acs-unknown" }
  | { readonly kind: "single-function" }
  | { readonly kind: "other-type"; readonly pcieType: number };

export interface AcsVerdict {
  readonly bdf: string;
  readonly enabled: boolean;
  readonly reason: AcsReason;
}

export type AcsQuirkLookup = (fn: PciFunction, req: number) => { enabled: boolean; rowId: string } | undefined;

/** how the control registers are known: read from a running system, or modelled from boot */
export type AcsCtrlMode = "captured" | "boot";

export interface AcsCtrlChange {
  readonly bdf: string;
  readonly param: "disable_acs_redir" | "config_acs";
  readonly before: number;
  readonly after: number;
}

export interface AcsCtrlResult {
  readonly ctrl: ReadonlyMap<string, number>;
  readonly changes: readonly AcsCtrlChange[];
  readonly warnings: readonly string[];
}

const ENABLE_MASK = PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF;
const REDIR_MASK = PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC;

interface ConfigAcsEntry {
  readonly spec: DevSpec;
  readonly mask: number;
  readonly flags: number;
}

/** parses `config_acs=` (flags read right to left: SV TB RR CR UF EC DT); entries after a rejected one are never reached */
export function parseConfigAcs(text: string): { entries: ConfigAcsEntry[]; warnings: string[] } {
  const entries: ConfigAcsEntry[] = [];
  const warnings: string[] = [];
  for (const part of text.split(";")) {
    if (part.trim() === "") continue;
    const at = part.indexOf("@");
    if (at < 0) {
      warnings.push(`config_acs: ACS flags missing in '${part}'`);
      break;
    }
    const chars = part.slice(0, at);
    const { specs, errors } = parseDevList(part.slice(at + 1));
    if (errors.length > 0 || specs.length !== 1) {
      warnings.push(`config_acs: ${errors[0] ?? "bad device"} in '${part}'`);
      break;
    }
    let mask = 0;
    let flags = 0;
    let bad = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[chars.length - 1 - i]!;
      const bit = 1 << i;
      if (c === "0") mask |= bit;
      else if (c === "1") {
        mask |= bit;
        flags |= bit;
      } else if (c !== "x" && c !== "X") bad = true;
    }
    if (bad || mask & ~0x7f) {
      // the kernel parses an entry's flags before matching the device, and gives up there for every device
      warnings.push(`config_acs: invalid ACS flags '${chars}'; the kernel ignores this entry and every one after it`);
      break;
    }
    entries.push({ spec: specs[0]!, mask, flags });
  }
  return { entries, warnings };
}

/**
 * The ACS control value per function. In "captured" mode it is what the
 * config space shows (already after the kernel's boot enabling). In "boot"
 * mode it is modelled (kernel-spec §4.4): firmware value, the kernel's
 * enabling of every implemented SV/RR/CR/UF when an IOMMU wants ACS, then
 * `disable_acs_redir=` and `config_acs=` with the semantics of the kernel
 * version.
 */
export function effectiveAcsCtrl(
  topology: Topology,
  opts: {
    mode: AcsCtrlMode;
    params?: KernelParams | undefined;
    kernel: KernelVersion;
    acsWanted: boolean;
  },
): AcsCtrlResult {
  const ctrl = new Map<string, number>();
  const changes: AcsCtrlChange[] = [];
  const warnings: string[] = [];
  const redir = opts.params?.disableAcsRedir ? parseDevList(opts.params.disableAcsRedir) : undefined;
  if (redir?.errors.length) warnings.push(`disable_acs_redir: ${redir.errors[0]}`);
  const cfg = opts.params?.configAcs ? parseConfigAcs(opts.params.configAcs) : undefined;
  if (cfg) warnings.push(...cfg.warnings);
  // 6.11 brought config_acs= and its arithmetic; the fix reached stable series at different patch levels
  const fix = hasStableFix(opts.kernel, STABLE_FIXES.configAcsArithmetic);
  const legacy = fix === "n/a";
  const buggy = fix === "no";
  if (opts.mode === "captured") {
    // each function's own register, read where it is (no copy of every function's value)
    if (legacy && cfg && cfg.entries.length > 0) warnings.push(acsMessages.configAcsTooOld(opts.kernel));
    return { ctrl: new CapturedCtrl(topology), changes, warnings };
  }
  const matched: string[] = [];
  for (const fn of topology.functions.values()) {
    if (fn.acs.state !== "present") continue;
    const fw = 0; // firmware leaves ACS off; the kernel turns it on
    let value = fw;
    // the Intel SPT hook writes the same value into its misplaced control dword (kernel-spec §4.6);
    // the Intel PCH hook handles ports without an ACS capability, which never get here
    if (opts.acsWanted) value |= fn.acs.cap & ENABLE_MASK;
    const before = value;
    const redirHit = redir?.specs.some((s) => devSpecMatches(s, fn, topology)) ?? false;
    if (redirHit) {
      if (legacy) value &= ~REDIR_MASK;
      else if (buggy) value = ((value & ~REDIR_MASK) | (fw & REDIR_MASK) | (~REDIR_MASK & 0xffff)) & 0xffff;
      else value = fw & ~REDIR_MASK;
      changes.push({ bdf: fn.bdf, param: "disable_acs_redir", before, after: value });
    }
    const entry = legacy ? undefined : cfg?.entries.find((e) => devSpecMatches(e.spec, fn, topology));
    if (entry) {
      const prior = value;
      value = buggy ? ((value & ~entry.mask) | (fw & entry.mask) | entry.flags) & 0xffff : (fw & ~entry.mask) | (entry.flags & entry.mask);
      changes.push({ bdf: fn.bdf, param: "config_acs", before: prior, after: value });
    }
    if ((redirHit && !legacy) || entry) matched.push(fn.bdf);
    ctrl.set(fn.bdf, value);
  }
  if (matched.length > 0 && opts.mode === "boot") {
    if (fix === "unknown") warnings.push(acsMessages.fixAssumed(opts.kernel));
    if (!buggy) warnings.push(acsMessages.firmwareCtrlAssumed(matched));
  }
  if (legacy && cfg && cfg.entries.length > 0) warnings.push(acsMessages.configAcsTooOld(opts.kernel));
  return { ctrl, changes, warnings };
}

/** the control registers as captured: a view of each function's own value, in function order */
export class CapturedCtrl extends ReadonlyMapView<string, number> {
  readonly #topology: Topology;
  #size: number | undefined;

  constructor(topology: Topology) {
    super();
    this.#topology = topology;
  }

  /** whether this is the captured control of `topology` (each function's value is then its own `acs.ctrl`) */
  covers(topology: Topology): boolean {
    return topology === this.#topology;
  }

  get(bdf: string): number | undefined {
    const f = this.#topology.functions.get(bdf);
    return f?.acs.state === "present" ? f.acs.ctrl : undefined;
  }

  get size(): number {
    if (this.#size === undefined) {
      let n = 0;
      for (const f of this.#topology.functions.values()) if (f.acs.state === "present") n++;
      this.#size = n;
    }
    return this.#size;
  }

  *entries(): MapIterator<[string, number]> {
    for (const f of this.#topology.functions.values()) if (f.acs.state === "present") yield [f.bdf, f.acs.ctrl];
  }
}

const SINGLE_FUNCTION: AcsReason = { kind: "single-function" };

/**
 * pci_acs_enabled (kernel-spec §4.1–4.2): a device-specific quirk first,
 * then the spec's rules by PCIe type.
 */
export class AcsEvaluator {
  readonly #topology: Topology;
  readonly #ctrl: ReadonlyMap<string, number>;
  readonly #quirk: AcsQuirkLookup;
  /** verdicts by request flags, then by function index */
  readonly #cache = new Map<number, (AcsVerdict | undefined)[]>();
  /** pathFailure answers by request flags, then by index of the start (null: isolated); asked of bridges only, so few */
  readonly #paths = new Map<number, Map<number, AcsVerdict | null>>();

  /** the control values are the functions' own (captured, no edits): no lookup by BDF */
  readonly #ownCtrl: boolean;

  constructor(topology: Topology, ctrl: ReadonlyMap<string, number>, quirk: AcsQuirkLookup) {
    this.#topology = topology;
    this.#ctrl = ctrl;
    this.#ownCtrl = ctrl instanceof CapturedCtrl && ctrl.covers(topology);
    this.#quirk = quirk;
  }

  /** PCIe 6.12.1.1 / kernel pci_acs_flags_enabled: unimplemented features count as on, except EC */
  #flags(fn: PciFunction, req: number): AcsVerdict {
    if (fn.acs.state === "unknown") return { bdf: fn.bdf, enabled: false, reason: { kind: "acs-unknown" } };
    if (fn.acs.state === "absent") return { bdf: fn.bdf, enabled: false, reason: { kind: "no-acs-cap" } };
    const ctrl = this.#ownCtrl ? fn.acs.ctrl : (this.#ctrl.get(fn.bdf) ?? fn.acs.ctrl);
    const need = req & (fn.acs.cap | PCI_ACS_EC);
    const missing = need & ~ctrl;
    return { bdf: fn.bdf, enabled: missing === 0, reason: this.#flagsReason(fn.acs.cap, ctrl, missing) };
  }

  /** one reason object per distinct register answer, shared by every function that gives it */
  readonly #reasons = new Map<string, AcsReason>();
  #flagsReason(cap: number, ctrl: number, missing: number): AcsReason {
    const key = `${cap}/${ctrl}/${missing}`;
    let r = this.#reasons.get(key);
    if (!r) {
      r = { kind: "flags", cap, ctrl, missing };
      this.#reasons.set(key, r);
    }
    return r;
  }

  /** the dense form of the topology, made on first use */
  get #dense(): DenseTopology {
    return (this.#d ??= denseTopology(this.#topology));
  }
  #d: DenseTopology | undefined;

  /** whether `topology` is the very model this evaluator answers for (its function indexes are valid here) */
  covers(topology: Topology): boolean {
    return topology === this.#topology;
  }

  enabled(fn: PciFunction, req: number): AcsVerdict {
    const i = this.#dense.index(fn.bdf);
    if (i !== undefined) return this.#enabledAt(i, req, fn);
    // a function outside the model: answered, not cached
    return this.#evaluate(fn, req);
  }

  /** `enabled` for the function at `index` of the dense topology */
  enabledAt(index: number, req: number): AcsVerdict {
    return this.#enabledAt(index, req, this.#dense.fns[index]!);
  }

  #enabledAt(index: number, req: number, fn: PciFunction): AcsVerdict {
    let byIndex = this.#cache.get(req);
    if (!byIndex) {
      byIndex = new Array<AcsVerdict | undefined>(this.#dense.fns.length);
      this.#cache.set(req, byIndex);
    }
    let v = byIndex[index];
    if (v === undefined) {
      v = this.#evaluate(fn, req);
      byIndex[index] = v;
    }
    return v;
  }

  #evaluate(fn: PciFunction, req: number): AcsVerdict {
    const q = this.#quirk(fn, req);
    if (q) return { bdf: fn.bdf, enabled: q.enabled, reason: { kind: "quirk", rowId: q.rowId } };
    // capabilities not read (a dump taken without root): PCIe or not is unknown, so is ACS
    if (!fn.isPcie && fn.config !== undefined && !fn.config.capabilitiesKnown) return { bdf: fn.bdf, enabled: false, reason: { kind: "acs-unknown" } };
    if (!fn.isPcie) return { bdf: fn.bdf, enabled: false, reason: { kind: "not-pcie" } };
    switch (fn.pcieType) {
      case PCI_EXP_TYPE_PCIE_BRIDGE:
      case PCI_EXP_TYPE_PCI_BRIDGE:
      case PCI_EXP_TYPE_RC_EC:
        // PCIe 6.12.1.1: these bridges cannot implement ACS toward their secondary side
        return { bdf: fn.bdf, enabled: false, reason: { kind: "bridge-type", pcieType: fn.pcieType } };
      case PCI_EXP_TYPE_DOWNSTREAM:
      case PCI_EXP_TYPE_ROOT_PORT:
        // PCIe 6.12.1.1: downstream and root ports must implement ACS to isolate
        return this.#flags(fn, req);
      case PCI_EXP_TYPE_ENDPOINT:
      case PCI_EXP_TYPE_UPSTREAM:
      case PCI_EXP_TYPE_LEG_END:
      case PCI_EXP_TYPE_RC_END:
        // PCIe 6.12.1.2: only multifunction devices need ACS between functions
        if (fn.multifunction) return this.#flags(fn, req);
        return { bdf: fn.bdf, enabled: true, reason: SINGLE_FUNCTION };
      default:
        return { bdf: fn.bdf, enabled: true, reason: { kind: "other-type", pcieType: fn.pcieType } };
    }
  }

  /**
   * pci_acs_path_enabled(start, NULL, req): `start` and every bridge above
   * it up to the root bus must pass. Returns the first failing verdict, or
   * undefined when the whole path is isolated.
   */
  pathFailure(start: PciFunction, req: number): AcsVerdict | undefined {
    const d = this.#dense;
    const i = d.index(start.bdf);
    if (i !== undefined) return this.pathFailureAt(i, req);
    // a function outside the model: its own verdict, then the bridges above its bus
    const v = this.#evaluate(start, req);
    if (!v.enabled) return v;
    const b = d.busIndexOf.get(busKey(start.segment, start.bus));
    if (b === undefined || d.buses[b]!.parent === undefined) return undefined;
    const self = d.busSelf[b]!;
    return self >= 0 ? this.pathFailureAt(self, req) : undefined;
  }

  /** `pathFailure` for the function at `index` of the dense topology */
  pathFailureAt(index: number, req: number): AcsVerdict | undefined {
    let byIndex = this.#paths.get(req);
    if (!byIndex) {
      byIndex = new Map();
      this.#paths.set(req, byIndex);
    }
    let v = byIndex.get(index);
    if (v === undefined) {
      v = this.#pathFailure(index, req) ?? null;
      byIndex.set(index, v);
    }
    return v ?? undefined;
  }

  #pathFailure(start: number, req: number): AcsVerdict | undefined {
    const d = this.#dense;
    let cur = start;
    for (let guard = 0; guard < 512; guard++) {
      const v = this.enabledAt(cur, req);
      if (!v.enabled) return v;
      const b = d.busOf[cur]!;
      if (b < 0 || d.buses[b]!.parent === undefined) return undefined;
      cur = d.busSelf[b]!;
      if (cur < 0) return undefined;
    }
    return undefined;
  }
}

