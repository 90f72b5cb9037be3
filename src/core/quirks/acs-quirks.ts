import { ByteReader } from "../bytes/reader.js";
import type { KernelVersion } from "../kernel/version.js";
import { PCI_ACS_CR, PCI_ACS_DT, PCI_ACS_EC, PCI_ACS_RR, PCI_ACS_SV, PCI_ACS_TB, PCI_ACS_UF } from "../regs/acs.js";
import {
  PCI_EXP_TYPE_DOWNSTREAM,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_TYPE_LEG_END,
  PCI_EXP_TYPE_RC_END,
  PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM,
} from "../regs/express.js";
import type { PciFunction, Topology } from "../topology/model.js";
import {
  ACS_ENABLE_ROWS,
  ACS_QUIRK_ROWS,
  CAVIUM_ROOT_PORTS,
  INTEL_PCH_ROOT_PORTS,
  INTEL_SPT_ROOT_PORTS,
  WANGXUN_ISOLATED_NICS,
  ZHAOXIN_ISOLATED_PORTS,
} from "./acs-table.js";
import { inIdSet, matchesRow, onRootBus, rowActive, rowsByVendor } from "./match.js";
import type { AcsEnableHookName, AcsQuirkFn } from "./row.js";

/** parsed `pcie_acs_override=` value (out-of-tree patch, spec §4.7) */
export interface AcsOverride {
  readonly downstream: boolean;
  readonly multifunction: boolean;
  readonly ids: readonly { readonly vendor: number; readonly device: number }[];
  readonly warnings: readonly string[];
}

// the patch keeps an array of 16 but stops at 15
const OVERRIDE_ID_SLOTS = 15;
const OVERRIDE_ID_RE = /^id:([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$/;

/**
 * Parses the value of `pcie_acs_override=` (a leading `pcie_acs_override=`
 * is tolerated). Comma-separated tokens; `downstream`, `multifunction` and
 * `id:` are matched as prefixes of a token, case-sensitively like the patch.
 * At most 15 `id:VVVV:DDDD` entries are kept. Never throws: problems become
 * warnings and the token is ignored.
 */
export function parseAcsOverride(value: string): AcsOverride {
  const text = value.trim().replace(/^pcie_acs_override=/, "");
  let downstream = false;
  let multifunction = false;
  const ids: { vendor: number; device: number }[] = [];
  const warnings: string[] = [];
  for (const token of text.split(",")) {
    if (token === "") continue;
    if (token.startsWith("downstream")) {
      downstream = true;
    } else if (token.startsWith("multifunction")) {
      multifunction = true;
    } else if (token.startsWith("id:")) {
      // slot check first, as in the patch: when full, even a bad entry gets this warning
      if (ids.length >= OVERRIDE_ID_SLOTS) {
        warnings.push(`Out of PCIe ACS override slots (${OVERRIDE_ID_SLOTS}): "${token}" ignored`);
        continue;
      }
      const m = OVERRIDE_ID_RE.exec(token);
      if (!m) {
        warnings.push(`invalid PCIe ACS override id "${token}" ignored: expected id:VVVV:DDDD in hex`);
        continue;
      }
      ids.push({ vendor: parseInt(m[1]!, 16), device: parseInt(m[2]!, 16) });
    } else {
      warnings.push(`unknown PCIe ACS override option "${token}" ignored`);
    }
  }
  return { downstream, multifunction, ids, warnings };
}

/** what the ACS quirk functions may need besides the function itself */
export interface AcsQuirkContext {
  readonly topology: Topology;
  /** an ACPI IVRS table exists (amd_sb only answers then) */
  readonly ivrsPresent: boolean;
  /** ACS_ENABLED_QUIRK: the Intel PCH enable hook succeeded for this port (decided by the caller) */
  readonly pchQuirkEnabled: (fn: PciFunction) => boolean;
  /** `pcie_acs_override=` as parsed; the override row is skipped without it */
  readonly override?: AcsOverride | undefined;
  /** gates rows by release; undefined = current mainline */
  readonly kernel?: KernelVersion | undefined;
  /**
   * ACS control to use after boot enabling and parameters. Only intel_spt_pch
   * reads control, and for those ports it means the dword at cap+0x08; when
   * not given, that dword is read through `rawConfig`.
   */
  readonly acsCtrl?: ((fn: PciFunction) => number | undefined) | undefined;
  /** the function's raw config space, for registers the decoded model does not keep */
  readonly rawConfig?: ((fn: PciFunction) => Uint8Array | undefined) | undefined;
}

type Evaluator = (fn: PciFunction, req: number, ctx: AcsQuirkContext) => boolean | undefined;

// true iff every requested bit is in `allowed`
const subset = (req: number, allowed: number): boolean => (req & ~allowed) === 0;

const PORT_EQUIV = PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF;
const MF_EQUIV = PCI_ACS_SV | PCI_ACS_TB | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF | PCI_ACS_DT;

// Sunrise Point: capability dword at +0x04, control dword at +0x08 (2 bytes later than the spec)
const SPT_ACS_CAP = 0x04; // 32 bits
const SPT_ACS_CTRL = 0x08; // 32 bits

const isType = (fn: PciFunction, ...types: number[]): boolean => fn.isPcie && types.includes(fn.pcieType);
const isRootPort = (fn: PciFunction): boolean => isType(fn, PCI_EXP_TYPE_ROOT_PORT);

function sptRegisters(fn: PciFunction, ctx: AcsQuirkContext): { cap: number; ctrl: number } | undefined {
  if (fn.acs.state !== "present") return undefined;
  const raw = ctx.rawConfig?.(fn);
  const reader = raw && new ByteReader(raw);
  const cap = reader?.u32(fn.acs.offset + SPT_ACS_CAP) ?? fn.acs.cap;
  // no control known → nothing counted as enabled
  const ctrl = ctx.acsCtrl?.(fn) ?? reader?.u32(fn.acs.offset + SPT_ACS_CTRL) ?? 0;
  return { cap, ctrl };
}

const EVALUATORS: Record<AcsQuirkFn, Evaluator> = {
  amd_sb: (fn, req, ctx) => {
    if (!fn.multifunction || !onRootBus(ctx.topology, fn) || !ctx.ivrsPresent) return undefined;
    return subset(req & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC | PCI_ACS_DT), PCI_ACS_RR | PCI_ACS_CR);
  },
  mf_endpoint: (_fn, req) => subset(req, MF_EQUIV),
  rciep: (fn, req) => (isType(fn, PCI_EXP_TYPE_RC_END) ? subset(req, PORT_EQUIV) : undefined),
  qcom_rp: (_fn, req) => subset(req, PORT_EQUIV),
  nxp_rp: (_fn, req) => subset(req, PORT_EQUIV),
  xgene: (_fn, req) => subset(req, PORT_EQUIV),
  brcm: (_fn, req) => subset(req, PORT_EQUIV),
  intel_pch: (fn, req, ctx) => {
    if (!isRootPort(fn) || !inIdSet(fn.device, INTEL_PCH_ROOT_PORTS)) return undefined;
    return subset(req, ctx.pchQuirkEnabled(fn) ? PORT_EQUIV : 0);
  },
  intel_spt_pch: (fn, req, ctx) => {
    if (!isRootPort(fn) || !inIdSet(fn.device, INTEL_SPT_ROOT_PORTS)) return undefined;
    const regs = sptRegisters(fn, ctx);
    if (!regs) return undefined;
    const wanted = req & (regs.cap | PCI_ACS_EC);
    return (regs.ctrl & wanted) === wanted;
  },
  cavium: (fn, req) => (isRootPort(fn) && inIdSet(fn.device, CAVIUM_ROOT_PORTS) ? subset(req, PORT_EQUIV) : undefined),
  al: (fn, req) => (isRootPort(fn) ? subset(req, PORT_EQUIV) : undefined),
  zhaoxin_ports: (fn, req) => {
    if (!isType(fn, PCI_EXP_TYPE_ROOT_PORT, PCI_EXP_TYPE_DOWNSTREAM)) return undefined;
    return inIdSet(fn.device, ZHAOXIN_ISOLATED_PORTS) && subset(req, PORT_EQUIV);
  },
  wangxun_nic: (fn, req) => inIdSet(fn.device, WANGXUN_ISOLATED_NICS) && subset(req, PORT_EQUIV),
  acs_override: (fn, _req, ctx) => {
    const o = ctx.override;
    // an unread extended space is not taken as "no ACS capability"
    if (!o || !fn.isPcie || fn.acs.state !== "absent") return undefined;
    if (o.ids.some((id) => id.vendor === fn.vendor && id.device === fn.device)) return true;
    if (o.downstream && isType(fn, PCI_EXP_TYPE_ROOT_PORT, PCI_EXP_TYPE_DOWNSTREAM)) return true;
    const endpointLike = isType(fn, PCI_EXP_TYPE_ENDPOINT, PCI_EXP_TYPE_UPSTREAM, PCI_EXP_TYPE_LEG_END, PCI_EXP_TYPE_RC_END);
    if (o.multifunction && endpointLike && fn.multifunction) return true;
    return undefined;
  },
};

/** the ACS quirk rows that can match a vendor, in table order */
const acsRowsFor = rowsByVendor(ACS_QUIRK_ROWS);

/**
 * The first ACS quirk row (spec §4.5, then the override) that answers for
 * this function and request, like pci_dev_specific_acs_enabled. Undefined
 * means no quirk applies (the kernel's -ENOTTY): use the standard rules.
 */
export function acsQuirkAnswer(
  fn: PciFunction,
  req: number,
  ctx: AcsQuirkContext,
): { enabled: boolean; rowId: string } | undefined {
  for (const row of acsRowsFor(fn.vendor)) {
    if (row.effect.fn === "acs_override" && !ctx.override) continue;
    if (!rowActive(row, { kernel: ctx.kernel }) || !matchesRow(fn, row)) continue;
    const enabled = EVALUATORS[row.effect.fn](fn, req, ctx);
    if (enabled !== undefined) return { enabled, rowId: row.id };
  }
  return undefined;
}

const HOOK_APPLIES: Record<AcsEnableHookName, (fn: PciFunction) => boolean> = {
  // handled even when RCBA is off (then without ACS_ENABLED_QUIRK)
  intel_pch: (fn) => isRootPort(fn) && inIdSet(fn.device, INTEL_PCH_ROOT_PORTS),
  intel_spt_pch: (fn) => isRootPort(fn) && inIdSet(fn.device, INTEL_SPT_ROOT_PORTS) && fn.acs.state === "present",
};

/**
 * Which §4.6 hook replaces the standard ACS enabling for this function at
 * boot, or undefined when the standard enabling (§4.4) runs.
 */
export function acsEnableHook(fn: PciFunction): { rowId: string; hook: AcsEnableHookName } | undefined {
  for (const row of ACS_ENABLE_ROWS) {
    if (matchesRow(fn, row) && HOOK_APPLIES[row.effect.hook](fn)) return { rowId: row.id, hook: row.effect.hook };
  }
  return undefined;
}
