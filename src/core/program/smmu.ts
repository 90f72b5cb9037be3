/**
 * An Arm SMMUv3 with a two-level stream table (hw-models.md §4,
 * kernel-spec.md §7.3): requester IDs become StreamIDs through the host
 * bridge's iommu-map (or the IORT ID mappings); Linux's L2 tables cover 256
 * StreamIDs each (SPLIT = 8) and are filled with default STEs (abort, or
 * bypass without disable_bypass) when a master in their range is added.
 */
import type { IommuDomain } from "./domain.js";
import { SMMU_C_BAD_STE, SMMU_C_BAD_STREAMID, SMMU_F_ADDR_SIZE, SMMU_F_PERMISSION, SMMU_F_TRANSLATION, SMMU_STE_ABORT } from "./faults.js";
import type { Translation } from "./faults.js";
import { WALK_BEYOND, WALK_DENIED, WALK_OK } from "./page-table.js";
import type { Access } from "./page-table.js";

/** one iommu-map entry: RIDs [ridBase, ridBase + length) → StreamIDs from sidBase */
export interface IommuMapEntry {
  readonly ridBase: number;
  readonly sidBase: number;
  readonly length: number;
}

/** SID = RID for every requester ID, the usual ACPI IORT mapping */
export const IDENTITY_IOMMU_MAP: readonly IommuMapEntry[] = [{ ridBase: 0, sidBase: 0, length: 0x10000 }];

export interface SmmuOptions {
  readonly name?: string;
  readonly iommuMap?: readonly IommuMapEntry[];
  /** iommu-map-mask, applied to the RID first (default: all ones) */
  readonly iommuMapMask?: number;
  /** arm-smmu-v3.disable_bypass (default true): default STEs abort instead of bypassing */
  readonly disableBypass?: boolean;
  /** StreamID width (default 16) */
  readonly sidBits?: number;
}

// STE word 0 Config field (bits 3:1)
export const STE_CFG_ABORT = 0;
export const STE_CFG_BYPASS = 4;
export const STE_CFG_S1_TRANSLATE = 5;
export const STE_CFG_S2_TRANSLATE = 6;
export const STE_CFG_NESTED = 7;

/** StreamIDs per L2 table (Linux STRTAB_SPLIT = 8) */
const L2_SPAN = 256;

class L2Table {
  readonly valid = new Uint8Array(L2_SPAN);
  readonly config = new Uint8Array(L2_SPAN);
  readonly domains: (IommuDomain | undefined)[] = new Array<IommuDomain | undefined>(L2_SPAN).fill(undefined);
}

export interface SmmuSte {
  /** word 0 bit 0 */
  readonly valid: boolean;
  readonly config: number;
  readonly domain: IommuDomain | undefined;
}

export class SmmuStreamTable {
  readonly arch = "smmu" as const;
  readonly name: string;
  readonly iommuMap: readonly IommuMapEntry[];
  readonly iommuMapMask: number;
  readonly disableBypass: boolean;
  readonly sidBits: number;
  readonly #sidLimit: number;
  readonly #l2 = new Map<number, L2Table>();

  constructor(opts: SmmuOptions = {}) {
    this.name = opts.name ?? "smmu0";
    this.iommuMap = opts.iommuMap ?? IDENTITY_IOMMU_MAP;
    this.iommuMapMask = opts.iommuMapMask ?? 0xffff;
    this.disableBypass = opts.disableBypass ?? true;
    this.sidBits = opts.sidBits ?? 16;
    this.#sidLimit = 2 ** this.sidBits;
  }

  /** the StreamID a requester ID maps to (of_map_id / IORT), or −1 when no entry covers it */
  sidOf(rid: number): number {
    const masked = rid & this.iommuMapMask;
    for (const m of this.iommuMap) {
      if (masked >= m.ridBase && masked < m.ridBase + m.length) return m.sidBase + (masked - m.ridBase);
    }
    return -1;
  }

  #defaultConfig(): number {
    return this.disableBypass ? STE_CFG_ABORT : STE_CFG_BYPASS;
  }

  /** allocates the L2 table holding `sid` and fills it with default STEs (arm_smmu_init_l2_strtab) */
  ensureL2(sid: number): void {
    const key = Math.floor(sid / L2_SPAN);
    if (this.#l2.has(key)) return;
    const t = new L2Table();
    t.valid.fill(1);
    t.config.fill(this.#defaultConfig());
    this.#l2.set(key, t);
  }

  /** true when the L2 table for `sid` exists */
  populated(sid: number): boolean {
    return this.#l2.has(Math.floor(sid / L2_SPAN));
  }

  /** writes a valid STE */
  setSte(sid: number, config: number, domain: IommuDomain | undefined): void {
    this.ensureL2(sid);
    const t = this.#l2.get(Math.floor(sid / L2_SPAN))!;
    const i = sid % L2_SPAN;
    t.valid[i] = 1;
    t.config[i] = config;
    t.domains[i] = domain;
  }

  /** back to the default STE */
  resetSte(sid: number): void {
    if (this.populated(sid)) this.setSte(sid, this.#defaultConfig(), undefined);
  }

  /** clears V (what an unprogrammed linear table would hold) */
  invalidateSte(sid: number): void {
    this.ensureL2(sid);
    const t = this.#l2.get(Math.floor(sid / L2_SPAN))!;
    t.valid[sid % L2_SPAN] = 0;
    t.domains[sid % L2_SPAN] = undefined;
  }

  ste(sid: number): SmmuSte | undefined {
    const t = this.#l2.get(Math.floor(sid / L2_SPAN));
    if (!t) return undefined;
    const i = sid % L2_SPAN;
    return { valid: t.valid[i] === 1, config: t.config[i]!, domain: t.domains[i] };
  }

  /**
   * The hardware lookup for one StreamID: L2 table, STE valid, Config
   * (abort / bypass / translate), then the stage's page walk. No allocation.
   */
  translate(sid: number, iova: number, access: Access, out: Translation): Translation {
    out.reset(this.name);
    out.streamId = sid;
    if (!(sid >= 0 && sid < this.#sidLimit)) return out.fail(SMMU_C_BAD_STREAMID);
    const t = this.#l2.get(Math.floor(sid / L2_SPAN));
    if (!t) return out.fail(SMMU_C_BAD_STREAMID);
    const i = sid % L2_SPAN;
    if (!t.valid[i]) return out.fail(SMMU_C_BAD_STE);
    const config = t.config[i]!;
    out.domain = t.domains[i];
    if (config === STE_CFG_BYPASS) return out.pass(iova);
    if (config !== STE_CFG_S1_TRANSLATE && config !== STE_CFG_S2_TRANSLATE && config !== STE_CFG_NESTED) return out.fail(SMMU_STE_ABORT);
    const table = out.domain?.table;
    if (!table) return out.fail(SMMU_F_TRANSLATION);
    const status = table.walk(iova, access);
    out.level = table.walkLevel;
    if (status === WALK_OK) {
      out.ok = true;
      out.address = table.walkAddress;
      out.pageSize = 2 ** (12 + 9 * (table.walkLevel - 1));
      return out;
    }
    if (status === WALK_BEYOND) return out.fail(SMMU_F_ADDR_SIZE);
    return out.fail(status === WALK_DENIED ? SMMU_F_PERMISSION : SMMU_F_TRANSLATION);
  }
}
