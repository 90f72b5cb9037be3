/**
 * IOMMU domains: an address space a function is attached to. A paging
 * domain owns a page table (iommu_map / iommu_unmap), an identity domain
 * lets DMA through untranslated (iommu=pt, the "pass-through" entries), a
 * blocked domain lets nothing through (Linux's blocking domain: entries
 * cleared).
 */
import { IoPageTable, levelsOfWidth } from "./page-table.js";
import type { AddressWidth, MapError, MapOptions, Perm } from "./page-table.js";

export type DomainKind = "paging" | "identity" | "blocked";

export interface DomainOptions {
  readonly kind?: DomainKind;
  /** input address width of a paging domain's table (default 48: 4 levels) */
  readonly addressWidth?: AddressWidth;
}

export class IommuDomain {
  readonly name: string;
  readonly kind: DomainKind;
  /** the page table of a paging domain */
  readonly table: IoPageTable | undefined;
  /** input address width: the table's, or the one given for identity / blocked domains */
  readonly addressWidth: AddressWidth;

  constructor(name: string, opts: DomainOptions = {}) {
    this.name = name;
    this.kind = opts.kind ?? "paging";
    this.addressWidth = opts.addressWidth ?? 48;
    this.table = this.kind === "paging" ? new IoPageTable(levelsOfWidth(this.addressWidth)) : undefined;
  }

  /** maps [iova, iova + size) to [paddr, …) with `perm` (PTE_READ | PTE_WRITE); undefined on success */
  map(iova: number, paddr: number, size: number, perm: Perm, opts?: MapOptions): MapError | undefined {
    if (!this.table) return { code: "not-paging", domain: this.name, kind: this.kind };
    return this.table.map(iova, paddr, size, perm, opts);
  }

  /** unmaps exactly [iova, iova + size); returns the bytes unmapped */
  unmap(iova: number, size: number): number | MapError {
    if (!this.table) return { code: "not-paging", domain: this.name, kind: this.kind };
    return this.table.unmap(iova, size);
  }
}
