/**
 * The IOMMU hardware of one machine as Linux programs it: VT-d units, AMD
 * device tables or an SMMUv3, built from a prediction (topology, alias
 * properties, which unit covers which function). `attach` writes an entry
 * for every requester ID the driver programs (./targets.ts); two domains
 * claiming one requester ID become a structured conflict, never a silent
 * overwrite. `translate` is the hardware lookup the simulator builds on.
 */
import { claimDmar, dmarUnits, iortRootComplex, isDmarUnitIgnored, ivrsAliasOf, ivrsUnits } from "../acpi/index.js";
import type { DmarUnit, IvrsTable } from "../acpi/index.js";
import { dmaAliases } from "../iommu/dma-alias.js";
import type { DmaAlias } from "../iommu/dma-alias.js";
import type { Prediction } from "../iommu/predict.js";
import { topologyResolver } from "../iommu/units.js";
import type { UngroupedReason } from "../iommu/units.js";
import type { KernelVersion } from "../kernel/version.js";
import { devId } from "../topology/address.js";
import type { PciFunction, Topology } from "../topology/model.js";
import { AmdDeviceTable, DTE_MODE_NONE } from "./amd.js";
import type { AmdDte } from "./amd.js";
import { IommuDomain } from "./domain.js";
import type { DomainOptions } from "./domain.js";
import { NO_UNIT, SMMU_C_BAD_STREAMID, Translation } from "./faults.js";
import type { IommuArch } from "./faults.js";
import { levelsOfWidth } from "./page-table.js";
import type { Access, AddressWidth } from "./page-table.js";
import { SmmuStreamTable, STE_CFG_ABORT, STE_CFG_BYPASS, STE_CFG_S1_TRANSLATE } from "./smmu.js";
import type { IommuMapEntry, SmmuOptions } from "./smmu.js";
import { aliasPolicy, entryTargets } from "./targets.js";
import type { AliasPolicy, EntryCause, EntryTarget } from "./targets.js";
import {
  CONTEXT_TT_MULTI_LEVEL,
  CONTEXT_TT_PASS_THROUGH,
  PASID_PGTT_PASS_THROUGH,
  PASID_PGTT_SECOND_LEVEL,
  VtdPasidTable,
  VtdUnitModel,
  awField,
} from "./vtd.js";
import type { VtdMode } from "./vtd.js";

export interface MachineOptions {
  /** VT-d translation table mode (default legacy) */
  readonly mode?: VtdMode | undefined;
  /** address width of new domains and of pass-through entries (default 48: 4-level tables) */
  readonly addressWidth?: AddressWidth | undefined;
  /** model an Arm SMMUv3 covering every function instead of the DMAR / IVRS units */
  readonly smmu?: SmmuOptions;
  /** AMD: SNP on, see AmdDeviceTableOptions */
  readonly amdSnp?: boolean;
  /** when there is no DMAR or IVRS table: which IOMMU to assume (default vtd) */
  readonly assumedArch?: "vtd" | "amd";
}

/** what Linux did with one requester ID during an attach */
export type EntryAction =
  /** the entry was written for this function */
  | "written"
  /** already present with the same domain (another alias of this function, or a sibling) */
  | "shared"
  /** present with another domain; Linux leaves it (VT-d) */
  | "kept-other"
  /** held by another function's domain; Linux overwrote it (AMD clone) */
  | "overwritten"
  /** not written: the attach failed (SMMU aliasing StreamID) */
  | "refused";

export interface EntryRef {
  readonly unit: string;
  readonly rid: number;
  /** SMMU StreamID; −1 elsewhere */
  readonly sid: number;
  readonly causes: readonly EntryCause[];
  readonly action: EntryAction;
}

export type ConflictOutcome = "kept-first" | "overwritten" | "probe-failed";

/** problems found while programming, as data (English in ./messages.ts) */
export type ProgramIssue =
  | {
      readonly code: "rid-conflict";
      readonly unit: string;
      readonly rid: number;
      readonly sid: number;
      /** the function being attached, its domain, and why it needs the requester ID */
      readonly bdf: string;
      readonly domain: string;
      readonly causes: readonly EntryCause[];
      /** the function whose attach wrote the entry, and the domain it names */
      readonly heldBy: string;
      readonly heldDomain: string;
      /** what Linux does: VT-d keeps the present entry, AMD overwrites it, SMMUv3 refuses the master */
      readonly outcome: ConflictOutcome;
    }
  | { readonly code: "no-iommu"; readonly bdf: string; readonly reason: UngroupedReason }
  | { readonly code: "unknown-function"; readonly bdf: string }
  | { readonly code: "entry-cleared-in-use"; readonly unit: string; readonly rid: number; readonly bdf: string; readonly users: readonly string[] }
  | { readonly code: "no-stream-id"; readonly unit: string; readonly rid: number; readonly bdf: string };

export interface AttachReport {
  readonly bdf: string;
  readonly domain: string;
  readonly unit: string | undefined;
  readonly policy: AliasPolicy;
  readonly entries: readonly EntryRef[];
  /** walk aliases the policy leaves without an entry */
  readonly skipped: readonly DmaAlias[];
  readonly issues: readonly ProgramIssue[];
}

export interface DetachReport {
  readonly bdf: string;
  /** the domain it left; undefined when it was not attached */
  readonly domain: string | undefined;
  /** requester IDs whose entries went back to blocked / not present */
  readonly cleared: readonly number[];
  readonly issues: readonly ProgramIssue[];
}

interface EntryBase {
  readonly unit: string;
  readonly rid: number;
  /** the function whose attach wrote it */
  readonly writer: string;
  /** functions attached through it (the writer included while attached) */
  readonly users: readonly string[];
  /** why the writer needed it */
  readonly causes: readonly EntryCause[];
}

/** a programmed entry, read back from the tables */
export type ProgrammedEntry =
  | (EntryBase & {
      readonly kind: "vtd-context";
      readonly bus: number;
      readonly devfn: number;
      readonly did: number;
      readonly tt: number;
      readonly aw: number;
      readonly domain: string;
    })
  | (EntryBase & {
      readonly kind: "vtd-sm-context";
      readonly bus: number;
      readonly devfn: number;
      readonly half: "lower" | "upper";
      readonly pasidTableOf: string;
      /** the RID_PASID entry of that table; undefined when torn down */
      readonly pasid: { readonly did: number; readonly pgtt: number; readonly aw: number; readonly domain: string } | undefined;
    })
  | (EntryBase & {
      readonly kind: "amd-dte";
      readonly segment: number;
      readonly domainId: number;
      readonly mode: number;
      readonly ir: boolean;
      readonly iw: boolean;
      readonly domain: string | undefined;
      /** the function whose DTE was copied here; undefined for the function's own DTE */
      readonly clonedFrom: string | undefined;
    })
  | (EntryBase & {
      readonly kind: "smmu-ste";
      readonly sid: number;
      readonly config: number;
      readonly domain: string | undefined;
    });

/** the machine's record of one entry it wrote */
interface Slot {
  readonly unit: number;
  readonly rid: number;
  readonly sid: number;
  writer: string;
  users: Set<string>;
  causes: readonly EntryCause[];
}

interface Attachment {
  readonly domain: IommuDomain;
  readonly unit: number;
}

const FIRST_DID: Record<VtdMode, number> = {
  // did 0 is reserved (caching mode, and "no domain id")
  legacy: 1,
  // FLPT_DEFAULT_DID (1) is reserved too in scalable mode
  scalable: 2,
};

/**
 * The IOMMU model of one machine; build it with `machineFromPrediction`.
 * It starts as the hardware stands before any domain is attached: VT-d
 * tables empty, every AMD DTE the blocked default, SMMU masters probed
 * (StreamIDs taken, L2 tables filled with default STEs). Boot-time default
 * domains are not attached for you. In scalable mode (6.10+) the context
 * entries Linux sets at probe are set at a function's first attach and
 * stay after detach.
 */
export class IommuMachine {
  readonly arch: IommuArch;
  readonly mode: VtdMode;
  readonly policy: AliasPolicy;
  readonly kernel: KernelVersion;
  readonly addressWidth: AddressWidth;
  /** unit names in the kernel's order (dmarN, ivhdN, smmu0) */
  readonly unitNames: readonly string[];

  readonly #topology: Topology;
  readonly #aliases: (fn: PciFunction) => DmaAlias[];
  readonly #ivrs: IvrsTable | undefined;
  readonly #unitOfFn: ReadonlyMap<string, number>;
  readonly #noUnit: ReadonlyMap<string, UngroupedReason>;
  readonly #vtd: readonly VtdUnitModel[];
  readonly #amd: ReadonlyMap<number, AmdDeviceTable>;
  readonly #smmu: SmmuStreamTable | undefined;
  readonly #routeVtdSlow: (segment: number, rid: number) => number;
  readonly #route = new Map<number, Int16Array>();
  readonly #byRid = new Map<string, PciFunction>();

  readonly #domains = new Map<string, IommuDomain>();
  readonly #amdIds = new Map<IommuDomain, number>();
  /** per unit: domain → its DID there and how many attached functions use it */
  readonly #dids = new Map<number, Map<IommuDomain, { did: number; refs: number }>>();
  readonly #attached = new Map<string, Attachment>();
  readonly #slots = new Map<string, Slot>();
  readonly #pasidTables = new Map<string, VtdPasidTable>();
  /** SMMU: StreamID → the master that took it at probe */
  readonly #sidOwner = new Map<number, string>();
  /** SMMU: masters whose probe failed on an aliasing StreamID */
  readonly #probeFailed = new Map<string, { sid: number; target: EntryTarget; owner: string }>();
  readonly #scratch = new Translation();

  constructor(init: {
    arch: IommuArch;
    mode: VtdMode;
    kernel: KernelVersion;
    addressWidth: AddressWidth;
    unitNames: readonly string[];
    topology: Topology;
    aliases: (fn: PciFunction) => DmaAlias[];
    ivrs: IvrsTable | undefined;
    unitOfFn: ReadonlyMap<string, number>;
    noUnit: ReadonlyMap<string, UngroupedReason>;
    amd: ReadonlyMap<number, AmdDeviceTable>;
    smmu: SmmuStreamTable | undefined;
    routeVtd: (segment: number, rid: number) => number;
    /** SMMU: the order masters are probed in (arm64: driver probe order); default scan order */
    probeOrder?: readonly string[] | undefined;
  }) {
    this.arch = init.arch;
    this.mode = init.mode;
    this.kernel = init.kernel;
    this.addressWidth = init.addressWidth;
    this.policy = aliasPolicy(init.arch, init.mode, init.kernel);
    this.unitNames = init.unitNames;
    this.#topology = init.topology;
    this.#aliases = init.aliases;
    this.#ivrs = init.ivrs;
    this.#unitOfFn = init.unitOfFn;
    this.#noUnit = init.noUnit;
    this.#vtd = init.arch === "vtd" ? init.unitNames.map((n) => new VtdUnitModel(n, init.mode)) : [];
    this.#amd = init.amd;
    this.#smmu = init.smmu;
    this.#routeVtdSlow = init.routeVtd;
    for (const f of init.topology.functions.values()) this.#byRid.set(`${f.segment}:${devId(f.bus, f.devfn)}`, f);
    if (this.#smmu) this.#probeSmmuMasters(this.#smmu, init.probeOrder ?? this.#topology.scanOrder);
  }

  /**
   * arm_smmu_probe_device for every covered function in scan order: the
   * master takes its StreamIDs (L2 tables filled with default STEs), or
   * fails when one is another master's ("Aliasing StreamID … unsupported").
   */
  #probeSmmuMasters(smmu: SmmuStreamTable, order: readonly string[]): void {
    for (const bdf of order) {
      if (!this.#unitOfFn.has(bdf)) continue;
      const sids = this.#smmuSids(bdf, smmu, []);
      const clash = sids.find(({ sid }) => this.#sidOwner.has(sid));
      if (clash) {
        this.#probeFailed.set(bdf, { ...clash, owner: this.#sidOwner.get(clash.sid)! });
        continue;
      }
      for (const { sid } of sids) {
        this.#sidOwner.set(sid, bdf);
        smmu.ensureL2(sid);
      }
    }
  }

  /** a function's StreamIDs, one per distinct SID, with the target that needs it */
  #smmuSids(bdf: string, smmu: SmmuStreamTable, issues: ProgramIssue[]): { sid: number; target: EntryTarget }[] {
    const sids: { sid: number; target: EntryTarget }[] = [];
    for (const t of this.targetsOf(bdf)?.targets ?? []) {
      const sid = smmu.sidOf(t.rid);
      if (sid < 0) issues.push({ code: "no-stream-id", unit: smmu.name, rid: t.rid, bdf });
      else if (!sids.some((x) => x.sid === sid)) sids.push({ sid, target: t });
    }
    return sids;
  }

  // ------------------------------------------------------------ domains

  /** creates a domain; names are unique per machine. AMD domain ids are allocated here, from 1, like Linux's at domain allocation. */
  createDomain(name: string, opts: DomainOptions = {}): IommuDomain {
    if (this.#domains.has(name)) throw new Error(`domain '${name}' exists already; pick another name or reuse machine.domain('${name}')`);
    const d = new IommuDomain(name, { addressWidth: this.addressWidth, ...opts });
    this.#domains.set(name, d);
    if (this.arch === "amd") this.#amdIds.set(d, this.#amdIds.size + 1);
    return d;
  }

  domain(name: string): IommuDomain | undefined {
    return this.#domains.get(name);
  }

  get domains(): readonly IommuDomain[] {
    return [...this.#domains.values()];
  }

  /** the hardware ids a domain has: VT-d DID per unit where attached, the AMD domain id (unit "all": one id space), nothing for SMMU */
  domainIds(domain: IommuDomain): { unit: string; id: number }[] {
    if (this.arch === "amd") {
      const id = this.#amdIds.get(domain);
      return id === undefined ? [] : [{ unit: "all", id }];
    }
    const out: { unit: string; id: number }[] = [];
    for (const [unit, dids] of [...this.#dids].sort((a, b) => a[0] - b[0])) {
      const d = dids.get(domain);
      if (d) out.push({ unit: this.unitNames[unit]!, id: d.did });
    }
    return out;
  }

  attachedDomain(bdf: string): IommuDomain | undefined {
    return this.#attached.get(bdf)?.domain;
  }

  /** the unit a function is covered by, or why none is */
  unitOf(bdf: string): { unit: string } | { reason: UngroupedReason } | undefined {
    const u = this.#unitOfFn.get(bdf);
    if (u !== undefined) return { unit: this.unitNames[u]! };
    const reason = this.#noUnit.get(bdf);
    return reason ? { reason } : undefined;
  }

  // ------------------------------------------------------------ attach / detach

  /** the requester IDs an attach of `fn` programs and the walk aliases it skips */
  targetsOf(bdf: string): { targets: readonly EntryTarget[]; skipped: readonly DmaAlias[] } | undefined {
    const fn = this.#topology.functions.get(bdf);
    if (!fn) return undefined;
    const own = devId(fn.bus, fn.devfn);
    const ivrsAlias = this.#ivrs ? ivrsAliasOf(this.#ivrs, fn.segment, own) : undefined;
    return entryTargets(this.policy, this.#aliases(fn), ivrsAlias);
  }

  /**
   * Attaches a function to a domain as Linux does: an entry for every
   * requester ID the driver programs. A function attached elsewhere is
   * detached first; a blocked domain only detaches.
   */
  attach(bdf: string, domain: IommuDomain): AttachReport {
    const issues: ProgramIssue[] = [];
    const report = (unit: number | undefined, entries: EntryRef[], skipped: readonly DmaAlias[] = []): AttachReport => ({
      bdf,
      domain: domain.name,
      unit: unit === undefined ? undefined : this.unitNames[unit],
      policy: this.policy,
      entries,
      skipped,
      issues,
    });
    const fn = this.#topology.functions.get(bdf);
    if (!fn) {
      issues.push({ code: "unknown-function", bdf });
      return report(undefined, []);
    }
    const unit = this.#unitOfFn.get(bdf);
    if (unit === undefined) {
      issues.push({ code: "no-iommu", bdf, reason: this.#noUnit.get(bdf) ?? "not-covered" });
      return report(undefined, []);
    }
    const current = this.#attached.get(bdf);
    if (current?.domain === domain) {
      const t = this.targetsOf(bdf)!;
      return report(unit, t.targets.map((x) => ({ unit: this.unitNames[unit]!, rid: x.rid, sid: this.#sidOf(x.rid), causes: x.causes, action: "shared" })), t.skipped);
    }
    if (current) issues.push(...this.detach(bdf).issues);
    if (domain.kind === "blocked" && this.arch !== "smmu") return report(unit, []);

    const { targets, skipped } = this.targetsOf(bdf)!;
    let entries: EntryRef[];
    switch (this.arch) {
      case "vtd":
        entries = this.mode === "legacy" ? this.#attachLegacy(fn, unit, domain, targets, issues) : this.#attachScalable(fn, unit, domain, targets, issues);
        break;
      case "amd":
        entries = this.#attachAmd(fn, unit, domain, targets, issues);
        break;
      case "smmu":
        entries = this.#attachSmmu(fn, unit, domain, issues);
        break;
    }
    return report(unit, entries, skipped);
  }

  /**
   * Detaches a function: its entries go back to not present (VT-d), the
   * blocked default (AMD) or the default STE (SMMU), for every requester
   * ID its attach programs, as Linux does even where another function still
   * relies on one (reported as entry-cleared-in-use).
   */
  detach(bdf: string): DetachReport {
    const att = this.#attached.get(bdf);
    if (!att) return { bdf, domain: undefined, cleared: [], issues: [] };
    const issues: ProgramIssue[] = [];
    const cleared: number[] = [];
    const unitName = this.unitNames[att.unit]!;
    const { targets } = this.targetsOf(bdf)!;
    const fn = this.#topology.functions.get(bdf)!;
    const noteUsers = (key: string, rid: number): void => {
      const slot = this.#slots.get(key);
      if (!slot) return;
      const users = [...slot.users].filter((u) => u !== bdf);
      if (users.length > 0) issues.push({ code: "entry-cleared-in-use", unit: unitName, rid, bdf, users });
      this.#slots.delete(key);
    };

    switch (this.arch) {
      case "vtd": {
        const unit = this.#vtd[att.unit]!;
        if (this.mode === "scalable") {
          const pt = this.#pasidTables.get(bdf);
          if (pt) pt.entry = undefined;
          if (this.policy === "own-and-mask") {
            // ≈6.10+: context entries were set at probe and stay; every RID pointing at this PASID table now faults
            for (const slot of this.#slots.values()) {
              if (slot.unit !== att.unit || unit.pasidTableOf(slot.rid) !== pt) continue;
              slot.users.delete(bdf);
              if (slot.users.size > 0) issues.push({ code: "entry-cleared-in-use", unit: unitName, rid: slot.rid, bdf, users: [...slot.users] });
              cleared.push(slot.rid);
            }
            break;
          }
        }
        for (const t of targets) {
          unit.clearContext(t.rid);
          noteUsers(this.#key(att.unit, t.rid), t.rid);
          cleared.push(t.rid);
        }
        break;
      }
      case "amd": {
        const table = this.#amd.get(fn.segment)!;
        for (const t of targets) {
          // do_detach: clear_dte_entry, then clone_aliases copies the cleared DTE
          table.resetDte(t.rid);
          noteUsers(this.#key(att.unit, t.rid), t.rid);
          cleared.push(t.rid);
        }
        break;
      }
      case "smmu": {
        const smmu = this.#smmu!;
        for (const t of targets) {
          const sid = smmu.sidOf(t.rid);
          if (sid < 0 || this.#sidOwner.get(sid) !== bdf) continue;
          smmu.resetSte(sid);
          noteUsers(this.#key(att.unit, sid), t.rid);
          cleared.push(t.rid);
        }
        break;
      }
    }
    this.#releaseDid(att.unit, att.domain);
    this.#attached.delete(bdf);
    return { bdf, domain: att.domain.name, cleared, issues };
  }

  #key(unit: number, ridOrSid: number): string {
    return `${unit}:${ridOrSid}`;
  }

  #sidOf(rid: number): number {
    return this.#smmu ? this.#smmu.sidOf(rid) : -1;
  }

  #acquireDid(unit: number, domain: IommuDomain): number {
    let dids = this.#dids.get(unit);
    if (!dids) this.#dids.set(unit, (dids = new Map()));
    const have = dids.get(domain);
    if (have) {
      have.refs++;
      return have.did;
    }
    const used = new Set([...dids.values()].map((d) => d.did));
    let did = FIRST_DID[this.mode];
    while (used.has(did)) did++;
    dids.set(domain, { did, refs: 1 });
    return did;
  }

  #releaseDid(unit: number, domain: IommuDomain): void {
    const dids = this.#dids.get(unit);
    const d = dids?.get(domain);
    if (!d) return;
    if (--d.refs === 0) dids!.delete(domain);
  }

  #conflict(
    issues: ProgramIssue[],
    unit: number,
    rid: number,
    sid: number,
    fn: PciFunction,
    domain: IommuDomain,
    target: EntryTarget,
    heldBy: string,
    heldDomain: string,
    outcome: ConflictOutcome,
  ): void {
    issues.push({
      code: "rid-conflict",
      unit: this.unitNames[unit]!,
      rid,
      sid,
      bdf: fn.bdf,
      domain: domain.name,
      causes: target.causes,
      heldBy,
      heldDomain,
      outcome,
    });
  }

  /** domain_context_mapping: a context entry per target; a present entry is left as it is */
  #attachLegacy(fn: PciFunction, u: number, domain: IommuDomain, targets: readonly EntryTarget[], issues: ProgramIssue[]): EntryRef[] {
    const unit = this.#vtd[u]!;
    const did = this.#acquireDid(u, domain);
    const passThrough = domain.kind === "identity";
    const entry = {
      did,
      tt: passThrough ? CONTEXT_TT_PASS_THROUGH : CONTEXT_TT_MULTI_LEVEL,
      aw: awField(passThrough ? this.addressWidth : domain.addressWidth),
      domain,
    };
    const refs: EntryRef[] = [];
    for (const t of targets) {
      const key = this.#key(u, t.rid);
      const held = unit.context(t.rid);
      let action: EntryAction;
      if (!held) {
        unit.setContext(t.rid, entry);
        this.#slots.set(key, { unit: u, rid: t.rid, sid: -1, writer: fn.bdf, users: new Set([fn.bdf]), causes: t.causes });
        action = "written";
      } else if (held.domain === domain) {
        this.#slots.get(key)?.users.add(fn.bdf);
        action = "shared";
      } else {
        this.#conflict(issues, u, t.rid, -1, fn, domain, t, this.#slots.get(key)?.writer ?? "?", held.domain.name, "kept-first");
        action = "kept-other";
      }
      refs.push({ unit: unit.name, rid: t.rid, sid: -1, causes: t.causes, action });
    }
    this.#attached.set(fn.bdf, { domain, unit: u });
    return refs;
  }

  /**
   * Scalable mode: the function's PASID table gets the RID_PASID entry; each
   * target's context entry points at the PASID table of whoever set it
   * first (Linux leaves a present entry alone).
   */
  #attachScalable(fn: PciFunction, u: number, domain: IommuDomain, targets: readonly EntryTarget[], issues: ProgramIssue[]): EntryRef[] {
    const unit = this.#vtd[u]!;
    const did = this.#acquireDid(u, domain);
    let pt = this.#pasidTables.get(fn.bdf);
    if (!pt) this.#pasidTables.set(fn.bdf, (pt = new VtdPasidTable(fn.bdf)));
    const passThrough = domain.kind === "identity";
    pt.entry = {
      did,
      pgtt: passThrough ? PASID_PGTT_PASS_THROUGH : PASID_PGTT_SECOND_LEVEL,
      aw: awField(passThrough ? this.addressWidth : domain.addressWidth),
      domain,
    };
    const refs: EntryRef[] = [];
    for (const t of targets) {
      const key = this.#key(u, t.rid);
      const held = unit.pasidTableOf(t.rid);
      let action: EntryAction;
      if (!held || held === pt) {
        if (!held) unit.setScalableContext(t.rid, pt);
        const slot = this.#slots.get(key);
        if (slot && held) slot.users.add(fn.bdf);
        else this.#slots.set(key, { unit: u, rid: t.rid, sid: -1, writer: fn.bdf, users: new Set([fn.bdf]), causes: t.causes });
        action = "written";
      } else if (held.entry?.domain === domain) {
        this.#slots.get(key)?.users.add(fn.bdf);
        action = "shared";
      } else {
        this.#conflict(issues, u, t.rid, -1, fn, domain, t, held.owner, held.entry?.domain.name ?? "(torn down)", "kept-first");
        action = "kept-other";
      }
      refs.push({ unit: unit.name, rid: t.rid, sid: -1, causes: t.causes, action });
    }
    this.#attached.set(fn.bdf, { domain, unit: u });
    return refs;
  }

  /**
   * set_dte_entry for the function, then clone_aliases: the IVRS alias and
   * every walk alias get a copy. (The kernel copies the DTE of the device its
   * alias callback names, which for a bridge alias is the bridge; the bridge
   * is in the function's group, so once the group is attached it carries the
   * same domain. The model copies the function's DTE.)
   */
  #attachAmd(fn: PciFunction, u: number, domain: IommuDomain, targets: readonly EntryTarget[], issues: ProgramIssue[]): EntryRef[] {
    const table = this.#amd.get(fn.segment)!;
    const paging = domain.kind === "paging";
    const dte: AmdDte = {
      mode: paging ? levelsOfWidth(domain.addressWidth) : DTE_MODE_NONE,
      ir: true,
      iw: true,
      domainId: this.#amdIds.get(domain) ?? 0,
      domain,
    };
    const refs: EntryRef[] = [];
    for (const t of targets) {
      const key = this.#key(u, t.rid);
      const slot = this.#slots.get(key);
      const held = table.dte(t.rid);
      let action: EntryAction = "written";
      if (slot && slot.writer !== fn.bdf && held.domain && held.domain !== domain) {
        this.#conflict(issues, u, t.rid, -1, fn, domain, t, slot.writer, held.domain.name, "overwritten");
        action = "overwritten";
      } else if (slot && slot.writer !== fn.bdf && held.domain === domain) {
        action = "shared";
      }
      table.setDte(t.rid, dte);
      table.setRlookup(t.rid, u);
      if (action === "shared") slot!.users.add(fn.bdf);
      else this.#slots.set(key, { unit: u, rid: t.rid, sid: -1, writer: fn.bdf, users: new Set([fn.bdf]), causes: t.causes });
      refs.push({ unit: this.unitNames[u]!, rid: t.rid, sid: -1, causes: t.causes, action });
    }
    this.#attached.set(fn.bdf, { domain, unit: u });
    return refs;
  }

  /**
   * SMMUv3: a master whose probe failed on an aliasing StreamID gets no
   * STE at all; otherwise each of its StreamIDs' STEs names the domain.
   */
  #attachSmmu(fn: PciFunction, u: number, domain: IommuDomain, issues: ProgramIssue[]): EntryRef[] {
    const smmu = this.#smmu!;
    const sids = this.#smmuSids(fn.bdf, smmu, issues);
    const failed = this.#probeFailed.get(fn.bdf);
    if (failed) {
      const { sid, target, owner } = failed;
      this.#conflict(issues, u, target.rid, sid, fn, domain, target, owner, this.#attached.get(owner)?.domain.name ?? "(not attached)", "probe-failed");
      return sids.map((x) => ({ unit: smmu.name, rid: x.target.rid, sid: x.sid, causes: x.target.causes, action: "refused" }));
    }
    const config = domain.kind === "paging" ? STE_CFG_S1_TRANSLATE : domain.kind === "identity" ? STE_CFG_BYPASS : STE_CFG_ABORT;
    const refs: EntryRef[] = [];
    for (const { sid, target } of sids) {
      smmu.setSte(sid, config, domain.kind === "blocked" ? undefined : domain);
      this.#slots.set(this.#key(u, sid), { unit: u, rid: target.rid, sid, writer: fn.bdf, users: new Set([fn.bdf]), causes: target.causes });
      refs.push({ unit: smmu.name, rid: target.rid, sid, causes: target.causes, action: "written" });
    }
    this.#attached.set(fn.bdf, { domain, unit: u });
    return refs;
  }

  // ------------------------------------------------------------ hardware lookup

  /**
   * Translates one DMA request as the hardware would: the unit that handles
   * the requester ID (VT-d: the DRHD whose scope holds it; AMD: the
   * segment's device table; SMMU: the StreamID from the iommu-map), then
   * that unit's tables. Pass `out` to reuse one result object; without it
   * an internal one is reused, valid until the next call. No allocation
   * after the first call for a segment.
   */
  translate(rid: number, iova: number, access: Access, out: Translation = this.#scratch, segment = 0): Translation {
    switch (this.arch) {
      case "vtd": {
        const u = this.#routeVtd(segment, rid & 0xffff);
        if (u < 0) return out.reset("").fail(NO_UNIT);
        return this.#vtd[u]!.translate(rid & 0xffff, iova, access, out);
      }
      case "amd": {
        const table = this.#amd.get(segment);
        if (!table) return out.reset("").fail(NO_UNIT);
        return table.translate(rid, iova, access, out);
      }
      case "smmu": {
        const smmu = this.#smmu!;
        const sid = smmu.sidOf(rid & 0xffff);
        if (sid < 0) {
          out.reset(smmu.name);
          return out.fail(SMMU_C_BAD_STREAMID);
        }
        return smmu.translate(sid, iova, access, out);
      }
    }
  }

  /** unit index for a requester ID, cached per segment */
  #routeVtd(segment: number, rid: number): number {
    let cache = this.#route.get(segment);
    if (!cache) this.#route.set(segment, (cache = new Int16Array(0x10000).fill(-2)));
    let u = cache[rid]!;
    if (u === -2) {
      const fn = this.#byRid.get(`${segment}:${rid}`);
      const own = fn ? this.#unitOfFn.get(fn.bdf) : undefined;
      u = own ?? this.#routeVtdSlow(segment, rid);
      cache[rid] = u;
    }
    return u;
  }

  // ------------------------------------------------------------ views

  /** the VT-d units' tables, for the simulator and tests */
  vtdUnit(name: string): VtdUnitModel | undefined {
    return this.#vtd.find((u) => u.name === name);
  }

  amdTable(segment = 0): AmdDeviceTable | undefined {
    return this.#amd.get(segment);
  }

  get smmu(): SmmuStreamTable | undefined {
    return this.#smmu;
  }

  /** present VT-d root entries, unit by unit */
  roots(): { unit: string; bus: number; lower: boolean; upper: boolean }[] {
    return this.#vtd.flatMap((u) => u.roots().map((r) => ({ unit: u.name, ...r })));
  }

  /** every entry the machine wrote, read back from the tables, by unit then requester ID / StreamID */
  entries(): ProgrammedEntry[] {
    const slots = [...this.#slots.values()].sort((a, b) => a.unit - b.unit || (a.sid >= 0 ? a.sid - b.sid : a.rid - b.rid));
    const out: ProgrammedEntry[] = [];
    for (const s of slots) {
      const base = { unit: this.unitNames[s.unit]!, rid: s.rid, writer: s.writer, users: [...s.users], causes: s.causes };
      const bus = s.rid >> 8;
      const devfn = s.rid & 0xff;
      switch (this.arch) {
        case "vtd": {
          const unit = this.#vtd[s.unit]!;
          if (this.mode === "legacy") {
            const e = unit.context(s.rid);
            if (e) out.push({ ...base, kind: "vtd-context", bus, devfn, did: e.did, tt: e.tt, aw: e.aw, domain: e.domain.name });
          } else {
            const pt = unit.pasidTableOf(s.rid);
            if (pt) {
              const e = pt.entry;
              out.push({
                ...base,
                kind: "vtd-sm-context",
                bus,
                devfn,
                half: devfn >= 128 ? "upper" : "lower",
                pasidTableOf: pt.owner,
                pasid: e && { did: e.did, pgtt: e.pgtt, aw: e.aw, domain: e.domain.name },
              });
            }
          }
          break;
        }
        case "amd": {
          const writer = this.#topology.functions.get(s.writer);
          const segment = writer?.segment ?? 0;
          const dte = this.#amd.get(segment)!.dte(s.rid);
          const own = writer !== undefined && devId(writer.bus, writer.devfn) === s.rid;
          out.push({
            ...base,
            kind: "amd-dte",
            segment,
            domainId: dte.domainId,
            mode: dte.mode,
            ir: dte.ir,
            iw: dte.iw,
            domain: dte.domain?.name,
            clonedFrom: own ? undefined : s.writer,
          });
          break;
        }
        case "smmu": {
          const ste = this.#smmu!.ste(s.sid);
          if (ste) out.push({ ...base, kind: "smmu-ste", sid: s.sid, config: ste.config, domain: ste.domain?.name });
          break;
        }
      }
    }
    return out;
  }
}

/** arm64: the requester ID → StreamID runs of segment 0's root complex that reach `unit` (IORT), else identity */
function armIommuMap(p: Prediction, unit: string): IommuMapEntry[] {
  const iort = p.layout.iort;
  const rc = iort ? iortRootComplex(iort, 0) : undefined;
  if (!iort || !rc) return [{ ridBase: 0, sidBase: 0, length: 0x10000 }];
  const out: IommuMapEntry[] = [];
  for (const m of rc.mappings) {
    const t = p.arm64!.streams.sidOf(0, m.inputBase);
    if (t?.unit !== unit) continue;
    out.push({ ridBase: m.inputBase, sidBase: t.sid, length: m.single ? 1 : Math.min(m.idCount + 1, 0x10000 - m.inputBase) });
  }
  return out;
}

/** a unit index per DMAR unit name, and a slow RID → unit lookup for requester IDs without a function */
function vtdRouter(p: Prediction, names: readonly string[]): (segment: number, rid: number) => number {
  if (!p.layout.dmar || p.layout.kind !== "intel") return () => (names.length > 0 ? 0 : -1);
  const resolver = topologyResolver(p.topology);
  const all = dmarUnits(p.layout.dmar);
  const units: DmarUnit[] = all.filter((u) => !isDmarUnitIgnored(all, u, resolver));
  return (segment, rid) => {
    const unit = claimDmar(units, resolver, { segment, bus: rid >> 8, devfn: rid & 0xff });
    return unit ? names.indexOf(unit.name) : -1;
  };
}

/**
 * Builds the machine a prediction describes: its IOMMU kind and units from
 * the DMAR / IVRS tables (or an SMMUv3 when asked), which unit covers which
 * function, the alias walk with the prediction's quirk properties, and the
 * kernel version (scalable-mode alias policy).
 */
export function machineFromPrediction(p: Prediction, opts: MachineOptions = {}): IommuMachine {
  const mode = opts.mode ?? "legacy";
  const addressWidth = opts.addressWidth ?? 48;
  const aliases = (fn: PciFunction): DmaAlias[] => dmaAliases(p.topology, p.props, fn);
  const noUnit = new Map(p.layout.ungrouped);
  const unitOfFn = new Map<string, number>();

  // arm64: the SMMU of the prediction, its masters probed in driver probe order
  const arm = !opts.smmu && p.arm64 && p.layout.units.length > 0 ? p.arm64 : undefined;
  if (opts.smmu || arm) {
    const smmu = new SmmuStreamTable(opts.smmu ?? { name: p.layout.units[0]!.name, iommuMap: armIommuMap(p, p.layout.units[0]!.name) });
    if (arm) {
      for (const b of arm.probe.passes.flat()) if (p.layout.units[0]!.functions.includes(b) || arm.refusals.has(b)) unitOfFn.set(b, 0);
    } else for (const b of p.topology.scanOrder) if (noUnit.get(b) !== "iommu-off") unitOfFn.set(b, 0);
    for (const b of unitOfFn.keys()) noUnit.delete(b);
    return new IommuMachine({
      arch: "smmu",
      mode,
      kernel: p.kernel,
      addressWidth,
      unitNames: [smmu.name],
      topology: p.topology,
      aliases,
      ivrs: undefined,
      unitOfFn,
      noUnit,
      amd: new Map(),
      smmu,
      routeVtd: () => -1,
      probeOrder: arm ? [...unitOfFn.keys()] : undefined,
    });
  }

  const names = p.layout.units.map((u) => u.name);
  p.layout.units.forEach((u, i) => {
    for (const b of u.functions) unitOfFn.set(b, i);
  });
  const arch: IommuArch = p.layout.kind === "amd" || p.layout.kind === "amd-inferred" || (p.layout.kind === "assumed" && opts.assumedArch === "amd") ? "amd" : "vtd";
  const amd = new Map<number, AmdDeviceTable>();
  if (arch === "amd") {
    const segments = new Set([...p.topology.functions.values()].map((f) => f.segment));
    for (const s of segments) amd.set(s, new AmdDeviceTable(s, names, { snp: opts.amdSnp ?? false }));
    // rlookup: units write their described devids in table order, a later unit winning (claimIvrs)
    if (p.layout.ivrs) {
      for (const unit of ivrsUnits(p.layout.ivrs)) {
        const table = amd.get(unit.segment);
        const index = names.indexOf(unit.name);
        if (!table || index < 0) continue;
        for (const r of unit.devids) for (let d = r.start; d <= r.end; d++) table.setRlookup(d, index);
      }
    }
  }
  return new IommuMachine({
    arch,
    mode,
    kernel: p.kernel,
    addressWidth,
    unitNames: names,
    topology: p.topology,
    aliases,
    ivrs: arch === "amd" ? p.layout.ivrs : undefined,
    unitOfFn,
    noUnit,
    amd,
    smmu: undefined,
    routeVtd: vtdRouter(p, names),
  });
}
