/**
 * One Intel VT-d remapping unit (DRHD): its root table and context tables,
 * legacy or scalable mode, and the hardware lookup (hw-models.md §2.1–2.3).
 *
 * Legacy: root entry per bus → context entry per devfn (P, TT, AW, DID,
 * second-level page-table root). Scalable: the root entry has a lower half
 * (devfn 0–127) and an upper half (128–255); a context entry points at the
 * device's PASID table, whose RID_PASID entry holds PGTT, AW, DID and the
 * page-table root. Only the RID_PASID entry is modelled: requests without a
 * PASID use it.
 */
import type { IommuDomain } from "./domain.js";
import {
  VTD_BEYOND_MGAW,
  VTD_CONTEXT_NOT_PRESENT,
  VTD_READ_NOT_SET,
  VTD_ROOT_NOT_PRESENT,
  VTD_SM_BEYOND_MAX,
  VTD_SM_CONTEXT_NOT_PRESENT,
  VTD_SM_PASID_ENTRY_NOT_PRESENT,
  VTD_SM_ROOT_NOT_PRESENT,
  VTD_SM_SL_PERMISSION,
  VTD_WRITE_NOT_SET,
} from "./faults.js";
import type { Translation } from "./faults.js";
import { WALK_BEYOND, WALK_OK } from "./page-table.js";
import type { Access, AddressWidth } from "./page-table.js";

export type VtdMode = "legacy" | "scalable";

// legacy context entry TT field (bits 3:2)
/** untranslated requests use the second-level tables */
export const CONTEXT_TT_MULTI_LEVEL = 0;
/** as multi-level, ATS / device-TLB allowed */
export const CONTEXT_TT_DEV_IOTLB = 1;
/** no translation (needs ECAP.PT); a present entry is still required */
export const CONTEXT_TT_PASS_THROUGH = 2;

// scalable-mode PASID table entry PGTT field (bits 8:6)
export const PASID_PGTT_FIRST_LEVEL = 1;
export const PASID_PGTT_SECOND_LEVEL = 2;
export const PASID_PGTT_NESTED = 3;
export const PASID_PGTT_PASS_THROUGH = 4;
/** the PASID Linux uses for requests that carry none (RID_PASID in the context entry) */
export const RID_PASID = 0;

/** the AW field of a context / PASID entry: (width − 30) / 9, so 39 → 1, 48 → 2, 57 → 3 */
export const awField = (width: AddressWidth): number => (width - 30) / 9;
/** first IOVA beyond each AW field value */
const AW_LIMIT = [2 ** 30, 2 ** 39, 2 ** 48, 2 ** 57];

/** what a legacy context entry holds */
export interface VtdContextEntry {
  /** domain id (bits 87:72) */
  readonly did: number;
  /** translation type (bits 3:2) */
  readonly tt: number;
  /** address width field (bits 66:64) */
  readonly aw: number;
  /** the domain whose page table SLPTPTR points at */
  readonly domain: IommuDomain;
}

/** the RID_PASID entry of a scalable-mode PASID table */
export interface VtdPasidEntry {
  readonly did: number;
  readonly pgtt: number;
  readonly aw: number;
  readonly domain: IommuDomain;
}

/** one device's PASID table; Linux allocates one per device and points its context entries at it */
export class VtdPasidTable {
  readonly owner: string;
  entry: VtdPasidEntry | undefined = undefined;

  constructor(owner: string) {
    this.owner = owner;
  }
}

/** one 4 KiB context table: 256 entries indexed by devfn (scalable mode uses one per root half) */
class ContextTable {
  readonly present = new Uint8Array(256);
  readonly tt = new Uint8Array(256);
  readonly aw = new Uint8Array(256);
  readonly did = new Uint16Array(256);
  readonly domains: (IommuDomain | undefined)[] = new Array<IommuDomain | undefined>(256).fill(undefined);
  readonly pasid: (VtdPasidTable | undefined)[] = new Array<VtdPasidTable | undefined>(256).fill(undefined);
}

/** a root entry and which of its context tables exist */
export interface VtdRootEntry {
  readonly bus: number;
  /** legacy: P; scalable: LP (devfn 0–127) */
  readonly lower: boolean;
  /** scalable: UP (devfn 128–255); always false in legacy mode */
  readonly upper: boolean;
}

export class VtdUnitModel {
  readonly arch = "vtd" as const;
  readonly name: string;
  readonly mode: VtdMode;
  /** context tables by bus: [0] legacy or scalable lower half, [1] scalable upper half */
  readonly #tables: [(ContextTable | undefined)[], (ContextTable | undefined)[]] = [new Array(256).fill(undefined), new Array(256).fill(undefined)];

  constructor(name: string, mode: VtdMode) {
    this.name = name;
    this.mode = mode;
  }

  #half(devfn: number): 0 | 1 {
    return this.mode === "scalable" && devfn >= 128 ? 1 : 0;
  }

  /**
   * The context table for a requester ID, allocated (and the root entry
   * made present) on demand as Linux does. Linux never frees it again, so
   * after a detach the bus keeps its root entry.
   */
  #table(rid: number, alloc: boolean): ContextTable | undefined {
    const bus = (rid >> 8) & 0xff;
    const tables = this.#tables[this.#half(rid & 0xff)];
    let t = tables[bus];
    if (!t && alloc) tables[bus] = t = new ContextTable();
    return t;
  }

  /** true when the root entry (the right half in scalable mode) is present */
  rootPresent(rid: number): boolean {
    return this.#table(rid, false) !== undefined;
  }

  /** writes a legacy context entry (overwriting: the policy layer decides whether to) */
  setContext(rid: number, entry: VtdContextEntry): void {
    const t = this.#table(rid, true)!;
    const devfn = rid & 0xff;
    t.present[devfn] = 1;
    t.tt[devfn] = entry.tt;
    t.aw[devfn] = entry.aw;
    t.did[devfn] = entry.did;
    t.domains[devfn] = entry.domain;
    t.pasid[devfn] = undefined;
  }

  /** writes a scalable-mode context entry pointing at a device's PASID table */
  setScalableContext(rid: number, pasidTable: VtdPasidTable): void {
    const t = this.#table(rid, true)!;
    const devfn = rid & 0xff;
    t.present[devfn] = 1;
    t.pasid[devfn] = pasidTable;
    t.domains[devfn] = undefined;
  }

  /** clears a context entry (the context table and root entry stay) */
  clearContext(rid: number): void {
    const t = this.#table(rid, false);
    if (!t) return;
    const devfn = rid & 0xff;
    t.present[devfn] = 0;
    t.tt[devfn] = 0;
    t.aw[devfn] = 0;
    t.did[devfn] = 0;
    t.domains[devfn] = undefined;
    t.pasid[devfn] = undefined;
  }

  contextPresent(rid: number): boolean {
    return this.#table(rid, false)?.present[rid & 0xff] === 1;
  }

  /** the legacy context entry of a requester ID, if present */
  context(rid: number): VtdContextEntry | undefined {
    const t = this.#table(rid, false);
    const devfn = rid & 0xff;
    const domain = t?.domains[devfn];
    if (!t || !t.present[devfn] || !domain) return undefined;
    return { did: t.did[devfn]!, tt: t.tt[devfn]!, aw: t.aw[devfn]!, domain };
  }

  /** the PASID table a scalable-mode context entry points at, if present */
  pasidTableOf(rid: number): VtdPasidTable | undefined {
    const t = this.#table(rid, false);
    return t?.present[rid & 0xff] ? t.pasid[rid & 0xff] : undefined;
  }

  /** present root entries in bus order */
  roots(): VtdRootEntry[] {
    const out: VtdRootEntry[] = [];
    for (let bus = 0; bus < 256; bus++) {
      const lower = this.#tables[0][bus] !== undefined;
      const upper = this.#tables[1][bus] !== undefined;
      if (lower || upper) out.push({ bus, lower, upper });
    }
    return out;
  }

  /**
   * The hardware lookup for a request without PASID: root entry, context
   * entry, then (scalable) the RID_PASID entry, then the page walk. Faults
   * carry Linux's fault reason codes. No allocation.
   */
  translate(rid: number, iova: number, access: Access, out: Translation): Translation {
    out.reset(this.name);
    const devfn = rid & 0xff;
    const t = this.#table(rid, false);
    const legacy = this.mode === "legacy";
    if (!t) return out.fail(legacy ? VTD_ROOT_NOT_PRESENT : VTD_SM_ROOT_NOT_PRESENT);
    if (!t.present[devfn]) return out.fail(legacy ? VTD_CONTEXT_NOT_PRESENT : VTD_SM_CONTEXT_NOT_PRESENT);

    let domain: IommuDomain | undefined;
    let passThrough: boolean;
    let aw: number;
    if (legacy) {
      domain = t.domains[devfn];
      out.domainId = t.did[devfn]!;
      passThrough = t.tt[devfn] === CONTEXT_TT_PASS_THROUGH;
      aw = t.aw[devfn]!;
    } else {
      const e = t.pasid[devfn]?.entry;
      if (!e) return out.fail(VTD_SM_PASID_ENTRY_NOT_PRESENT);
      domain = e.domain;
      out.domainId = e.did;
      passThrough = e.pgtt === PASID_PGTT_PASS_THROUGH;
      aw = e.aw;
    }
    out.domain = domain;
    if (passThrough) return out.pass(iova);

    if (!(iova >= 0 && iova < (AW_LIMIT[aw] ?? 0))) return out.fail(legacy ? VTD_BEYOND_MGAW : VTD_SM_BEYOND_MAX);
    const table = domain?.table;
    if (!table) return out.fail(legacy ? (access === "write" ? VTD_WRITE_NOT_SET : VTD_READ_NOT_SET) : VTD_SM_SL_PERMISSION);
    const status = table.walk(iova, access);
    out.level = table.walkLevel;
    if (status !== WALK_OK) {
      if (!legacy) return out.fail(VTD_SM_SL_PERMISSION);
      // beyond the table's own width cannot happen when AW matches the table; report it like the AW check
      if (status === WALK_BEYOND) return out.fail(VTD_BEYOND_MGAW);
      // an unmapped IOVA and a missing permission look the same: R or W not set for this access
      return out.fail(access === "write" ? VTD_WRITE_NOT_SET : VTD_READ_NOT_SET);
    }
    out.ok = true;
    out.address = table.walkAddress;
    out.pageSize = 2 ** (12 + 9 * (table.walkLevel - 1));
    return out;
  }
}
