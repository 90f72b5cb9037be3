/**
 * The AMD-Vi device table of one PCI segment: 64 Ki DTEs indexed by the
 * 16-bit DeviceID (= requester ID), shared by the segment's IOMMUs, plus the
 * rlookup table naming the IOMMU that handles each DeviceID
 * (hw-models.md §3.1, §3.3).
 *
 * Linux initialises every DTE to V=1, TV=1, Mode 0, IR=IW=0, DomainID 0: a
 * requester ID nobody programmed is blocked and faults with domain 0.
 */
import type { IommuDomain } from "./domain.js";
import { AMD_FLAG_PE, AMD_FLAG_PR, AMD_FLAG_RW, AMD_ILLEGAL_DEV_TABLE_ENTRY, AMD_IO_PAGE_FAULT } from "./faults.js";
import type { Translation } from "./faults.js";
import { WALK_DENIED, WALK_OK } from "./page-table.js";
import type { Access } from "./page-table.js";

/** Mode 0: no translation, IR / IW decide */
export const DTE_MODE_NONE = 0;
const DEVIDS = 0x10000;

// model encoding of the DTE's single-bit fields
const DTE_IR = 0x1; // bit 61
const DTE_IW = 0x2; // bit 62

/** the DTE fields Linux writes for a domain (V and TV are always 1) */
export interface AmdDte {
  /** bits 11:9: paging levels, 0 = no translation */
  readonly mode: number;
  /** bit 61: read permission */
  readonly ir: boolean;
  /** bit 62: write permission */
  readonly iw: boolean;
  /** bits 79:64 */
  readonly domainId: number;
  /** the domain whose page table the root pointer names; undefined in the boot default */
  readonly domain: IommuDomain | undefined;
}

export interface AmdDeviceTableOptions {
  /**
   * SNP on, with a kernel that writes TV=1 into DTEs with Mode 0: the IOMMU
   * treats them as illegal and logs ILLEGAL_DEV_TABLE_ENTRY instead of
   * IO_PAGE_FAULT (hw-models §3.1; unverified in detail)
   */
  readonly snp?: boolean;
}

export class AmdDeviceTable {
  readonly arch = "amd" as const;
  readonly segment: number;
  readonly snp: boolean;
  /** IOMMU names, indexed by the rlookup table */
  readonly unitNames: readonly string[];
  readonly #perm = new Uint8Array(DEVIDS);
  readonly #mode = new Uint8Array(DEVIDS);
  readonly #domainId = new Uint16Array(DEVIDS);
  readonly #domains: (IommuDomain | undefined)[] = new Array<IommuDomain | undefined>(DEVIDS).fill(undefined);
  /** rlookup: index into unitNames (0 when nobody set it) */
  readonly #rlookup = new Uint8Array(DEVIDS);

  constructor(segment: number, unitNames: readonly string[], opts: AmdDeviceTableOptions = {}) {
    this.segment = segment;
    this.unitNames = unitNames.length > 0 ? unitNames : ["ivhd0"];
    this.snp = opts.snp ?? false;
  }

  /** points a DeviceID's rlookup entry at a unit (by index in unitNames) */
  setRlookup(devid: number, unit: number): void {
    this.#rlookup[devid & 0xffff] = unit;
  }

  unitOf(devid: number): string {
    return this.unitNames[this.#rlookup[devid & 0xffff]!] ?? this.unitNames[0]!;
  }

  /** writes a DTE (V=1, TV=1 and the given fields) */
  setDte(devid: number, dte: AmdDte): void {
    const i = devid & 0xffff;
    this.#perm[i] = (dte.ir ? DTE_IR : 0) | (dte.iw ? DTE_IW : 0);
    this.#mode[i] = dte.mode;
    this.#domainId[i] = dte.domainId;
    this.#domains[i] = dte.domain;
  }

  /** copies one DTE over another, as Linux's clone_alias does */
  cloneDte(from: number, to: number): void {
    this.setDte(to, this.dte(from));
  }

  /** back to the boot default (clear_dte_entry): blocked, domain 0 */
  resetDte(devid: number): void {
    this.setDte(devid, { mode: DTE_MODE_NONE, ir: false, iw: false, domainId: 0, domain: undefined });
  }

  dte(devid: number): AmdDte {
    const i = devid & 0xffff;
    const perm = this.#perm[i]!;
    return { mode: this.#mode[i]!, ir: (perm & DTE_IR) !== 0, iw: (perm & DTE_IW) !== 0, domainId: this.#domainId[i]!, domain: this.#domains[i] };
  }

  /** true when the DTE is not the boot default */
  isProgrammed(devid: number): boolean {
    const i = devid & 0xffff;
    return this.#mode[i] !== 0 || this.#perm[i] !== 0 || this.#domainId[i] !== 0 || this.#domains[i] !== undefined;
  }

  /**
   * The hardware lookup: DTE, then Mode 0 (IR/IW decide) or a walk of Mode
   * levels. DTE IR/IW also gate translated accesses. Faults are
   * IO_PAGE_FAULT with the DTE's DomainID and flags RW (write), PR (the
   * page was present), PE (permission). No allocation.
   */
  translate(devid: number, iova: number, access: Access, out: Translation): Translation {
    const i = devid & 0xffff;
    out.reset(this.unitOf(i));
    out.domainId = this.#domainId[i]!;
    out.domain = this.#domains[i];
    const write = access === "write";
    const rw = write ? AMD_FLAG_RW : 0;
    const allowed = (this.#perm[i]! & (write ? DTE_IW : DTE_IR)) !== 0;
    const mode = this.#mode[i]!;
    if (mode === DTE_MODE_NONE) {
      if (this.snp) return out.fail(AMD_ILLEGAL_DEV_TABLE_ENTRY);
      if (allowed) return out.pass(iova);
      out.flags = rw;
      return out.fail(AMD_IO_PAGE_FAULT);
    }
    const table = out.domain?.table;
    if (!table || !(iova >= 0 && iova < 2 ** (12 + 9 * mode))) {
      out.flags = rw;
      return out.fail(AMD_IO_PAGE_FAULT);
    }
    const status = table.walk(iova, access);
    out.level = table.walkLevel;
    if (status === WALK_OK && allowed) {
      out.ok = true;
      out.address = table.walkAddress;
      out.pageSize = 2 ** (12 + 9 * (table.walkLevel - 1));
      return out;
    }
    out.flags = status === WALK_OK || status === WALK_DENIED ? rw | AMD_FLAG_PR | AMD_FLAG_PE : rw;
    return out.fail(AMD_IO_PAGE_FAULT);
  }
}
