/**
 * The I/O page table all three IOMMU models walk: a radix tree with a 4 KiB
 * granule and 512 eight-byte entries per table, 3 to 5 levels (39-, 48- or
 * 57-bit input), with 2 MiB (level 2) and 1 GiB (level 3) superpages
 * (hw-models.md §2.2; AMD-Vi and SMMUv3 use the same shape for 4 KiB pages).
 *
 * Entries live in typed arrays, one slot per entry of every table, so a walk
 * reads numbers and allocates nothing. Addresses are JS numbers: exact up to
 * 2^53, which covers 39- and 48-bit IOVAs and the low 2^53 of a 57-bit space.
 */

/** bytes per base page */
export const PAGE_SIZE = 4096;
export const SIZE_2M = 2 ** 21;
export const SIZE_1G = 2 ** 30;
/** entries per table (9 index bits per level) */
const ENTRIES = 512;
/** largest host physical address a leaf may point at (52 bits) */
const PADDR_LIMIT = 2 ** 52;

// Entry bits, laid out like the VT-d second-level PTE (Linux `dma_pte`)
/** bit 0: reads allowed */
export const PTE_READ = 0x01;
/** bit 1: writes allowed */
export const PTE_WRITE = 0x02;
const PTE_RW = PTE_READ | PTE_WRITE;
/** bit 7: this level-2 / level-3 entry is a superpage, not a table pointer */
const PTE_PS = 0x80;

/** map permissions: PTE_READ, PTE_WRITE or both */
export type Perm = number;
export const PERM_RW: Perm = PTE_RW;

/** the kind of DMA request being translated */
export type Access = "read" | "write";

export type PageTableLevels = 3 | 4 | 5;
export const ADDRESS_WIDTHS = [39, 48, 57] as const;
export type AddressWidth = (typeof ADDRESS_WIDTHS)[number];

/** input address bits of a table with `levels` levels (VT-d AGAW): 12 + 9 × levels */
export const widthOfLevels = (levels: PageTableLevels): AddressWidth => (12 + 9 * levels) as AddressWidth;
export const levelsOfWidth = (width: AddressWidth): PageTableLevels => ((width - 12) / 9) as PageTableLevels;

/** bytes one entry maps at each level (index 1..5) */
const SPAN = [0, 2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39, 2 ** 48] as const;

/** what a walk found; the walk's address and level are left in `walkAddress` / `walkLevel` */
export const WALK_OK = 0;
/** an entry on the way has neither R nor W (Linux's "not present") */
export const WALK_NOT_PRESENT = 1;
/** an entry on the way lacks the permission the access needs */
export const WALK_DENIED = 2;
/** the IOVA lies beyond the table's input width */
export const WALK_BEYOND = 3;
export type WalkStatus = typeof WALK_OK | typeof WALK_NOT_PRESENT | typeof WALK_DENIED | typeof WALK_BEYOND;

/** why a map or unmap request was refused; the table is unchanged */
export type MapError =
  | { readonly code: "unaligned"; readonly field: "iova" | "paddr" | "size"; readonly value: number }
  | { readonly code: "empty-range" }
  | { readonly code: "no-permission"; readonly perm: number }
  | { readonly code: "beyond-width"; readonly iova: number; readonly size: number; readonly width: number }
  | { readonly code: "paddr-beyond-limit"; readonly paddr: number; readonly size: number }
  | { readonly code: "already-mapped"; readonly iova: number }
  | { readonly code: "not-paging"; readonly domain: string; readonly kind: string };

/** one run of leaf entries with contiguous IOVA, contiguous host address and equal permissions */
export interface Mapping {
  readonly iova: number;
  readonly paddr: number;
  readonly size: number;
  readonly perm: Perm;
}

export interface MapOptions {
  /** use 2 MiB / 1 GiB entries where IOVA, address and size allow (default true, like Linux with SLLPS) */
  readonly superpages?: boolean;
}

const isPageMultiple = (n: number): boolean => Number.isSafeInteger(n) && n >= 0 && n % PAGE_SIZE === 0;
const indexAt = (iova: number, level: number): number => Math.floor(iova / SPAN[level]!) % ENTRIES;

/**
 * A multi-level I/O page table. `map` and `unmap` keep it like Linux's
 * iommu_map / iommu_unmap would; `walk` reads it like the hardware does.
 */
export class IoPageTable {
  readonly levels: PageTableLevels;
  /** input address width in bits */
  readonly width: AddressWidth;
  /** first IOVA beyond the table (2^width) */
  readonly limit: number;

  /** host address of the last successful walk */
  walkAddress = 0;
  /** level the last walk stopped at (1 = 4 KiB leaf, 2 = 2 MiB, 3 = 1 GiB) */
  walkLevel = 0;
  /** R/W bits of the leaf the last successful walk used */
  walkPerm: Perm = 0;

  // entry e of table t is slot t * 512 + e
  #flags: Uint8Array;
  /** leaf: host page frame number (address / 4096); table pointer: the child table's index */
  #addr: Float64Array;
  /** present entries per table */
  #count: Uint16Array;
  #capacity: number;
  #highWater = 0;
  #freeTables: number[] = [];
  readonly #root: number;

  constructor(levels: PageTableLevels = 4) {
    this.levels = levels;
    this.width = widthOfLevels(levels);
    this.limit = 2 ** this.width;
    this.#capacity = 8;
    this.#flags = new Uint8Array(this.#capacity * ENTRIES);
    this.#addr = new Float64Array(this.#capacity * ENTRIES);
    this.#count = new Uint16Array(this.#capacity);
    this.#root = this.#allocTable();
  }

  /** tables in use, root included */
  get tableCount(): number {
    return this.#highWater - this.#freeTables.length;
  }

  /**
   * Maps [iova, iova + size) to [paddr, paddr + size) with `perm`. Refuses
   * (and changes nothing) when any page of the range is already mapped, as
   * iommu_map does.
   */
  map(iova: number, paddr: number, size: number, perm: Perm, opts: MapOptions = {}): MapError | undefined {
    const bad = this.#checkRange(iova, size) ?? (isPageMultiple(paddr) ? undefined : { code: "unaligned", field: "paddr", value: paddr } as const);
    if (bad) return bad;
    if ((perm & PTE_RW) === 0 || (perm & ~PTE_RW) !== 0) return { code: "no-permission", perm };
    if (paddr + size > PADDR_LIMIT) return { code: "paddr-beyond-limit", paddr, size };
    const taken = this.#firstMapped(this.#root, this.levels, 0, iova, iova + size);
    if (taken >= 0) return { code: "already-mapped", iova: taken };

    const superpages = opts.superpages ?? true;
    const end = iova + size;
    let at = iova;
    let pa = paddr;
    while (at < end) {
      let level = 1;
      if (superpages) {
        for (let l = Math.min(3, this.levels); l >= 2; l--) {
          const span = SPAN[l]!;
          if (at % span === 0 && pa % span === 0 && end - at >= span) {
            level = l;
            break;
          }
        }
      }
      this.#install(at, pa, level, perm);
      at += SPAN[level]!;
      pa += SPAN[level]!;
    }
    return undefined;
  }

  /**
   * Unmaps exactly [iova, iova + size): a superpage only partly inside the
   * range is split into smaller entries first. Returns the bytes that were
   * mapped and are not any more, or a MapError for a malformed range.
   */
  unmap(iova: number, size: number): number | MapError {
    const bad = this.#checkRange(iova, size);
    if (bad) return bad;
    return this.#unmapIn(this.#root, this.levels, 0, iova, iova + size);
  }

  /**
   * The hardware walk for one access: from the root down, each entry must be
   * present and carry the permission the access needs; a leaf (level 1, or
   * PS set) gives the host address. No allocation.
   */
  walk(iova: number, access: Access): WalkStatus {
    if (!(iova >= 0 && iova < this.limit)) {
      this.walkLevel = this.levels;
      return WALK_BEYOND;
    }
    const need = access === "write" ? PTE_WRITE : PTE_READ;
    const flags = this.#flags;
    let table = this.#root;
    for (let level: number = this.levels; level >= 1; level--) {
      const span = SPAN[level]!;
      const slot = table * ENTRIES + (Math.floor(iova / span) % ENTRIES);
      const f = flags[slot]!;
      if ((f & PTE_RW) === 0) {
        this.walkLevel = level;
        return WALK_NOT_PRESENT;
      }
      if ((f & need) === 0) {
        this.walkLevel = level;
        return WALK_DENIED;
      }
      if (level === 1 || (f & PTE_PS) !== 0) {
        this.walkAddress = this.#addr[slot]! * PAGE_SIZE + (iova % span);
        this.walkLevel = level;
        this.walkPerm = f & PTE_RW;
        return WALK_OK;
      }
      table = this.#addr[slot]!;
    }
    this.walkLevel = 1;
    return WALK_NOT_PRESENT; // unreachable: level 1 always ends the loop
  }

  /** the leaf mappings in IOVA order, adjacent runs merged */
  mappings(): Mapping[] {
    const out: { iova: number; paddr: number; size: number; perm: Perm }[] = [];
    const visit = (table: number, level: number, base: number): void => {
      const span = SPAN[level]!;
      for (let i = 0; i < ENTRIES; i++) {
        const slot = table * ENTRIES + i;
        const f = this.#flags[slot]!;
        if ((f & PTE_RW) === 0) continue;
        const iova = base + i * span;
        if (level === 1 || (f & PTE_PS) !== 0) {
          const paddr = this.#addr[slot]! * PAGE_SIZE;
          const perm = f & PTE_RW;
          const last = out[out.length - 1];
          if (last && last.iova + last.size === iova && last.paddr + last.size === paddr && last.perm === perm) last.size += span;
          else out.push({ iova, paddr, size: span, perm });
        } else {
          visit(this.#addr[slot]!, level - 1, iova);
        }
      }
    };
    visit(this.#root, this.levels, 0);
    return out;
  }

  #checkRange(iova: number, size: number): MapError | undefined {
    if (!isPageMultiple(iova)) return { code: "unaligned", field: "iova", value: iova };
    if (!isPageMultiple(size)) return { code: "unaligned", field: "size", value: size };
    if (size === 0) return { code: "empty-range" };
    if (iova + size > this.limit) return { code: "beyond-width", iova, size, width: this.width };
    return undefined;
  }

  #allocTable(): number {
    const reused = this.#freeTables.pop();
    const table = reused ?? this.#highWater++;
    if (table >= this.#capacity) this.#grow();
    this.#flags.fill(0, table * ENTRIES, (table + 1) * ENTRIES);
    this.#addr.fill(0, table * ENTRIES, (table + 1) * ENTRIES);
    this.#count[table] = 0;
    return table;
  }

  #grow(): void {
    const capacity = this.#capacity * 2;
    const flags = new Uint8Array(capacity * ENTRIES);
    flags.set(this.#flags);
    const addr = new Float64Array(capacity * ENTRIES);
    addr.set(this.#addr);
    const count = new Uint16Array(capacity);
    count.set(this.#count);
    this.#flags = flags;
    this.#addr = addr;
    this.#count = count;
    this.#capacity = capacity;
  }

  /** frees a table and every table below it */
  #freeTree(table: number, level: number): void {
    if (level > 1) {
      for (let i = 0; i < ENTRIES; i++) {
        const slot = table * ENTRIES + i;
        const f = this.#flags[slot]!;
        if ((f & PTE_RW) !== 0 && (f & PTE_PS) === 0) this.#freeTree(this.#addr[slot]!, level - 1);
      }
    }
    this.#freeTables.push(table);
  }

  /** writes one leaf at `leafLevel`, creating the tables above it; the range is known to be free */
  #install(iova: number, paddr: number, leafLevel: number, perm: Perm): void {
    let table = this.#root;
    for (let level: number = this.levels; level > leafLevel; level--) {
      const slot = table * ENTRIES + indexAt(iova, level);
      if ((this.#flags[slot]! & PTE_RW) === 0) {
        const child = this.#allocTable();
        // Linux gives table pointers R|W; the leaf decides the access
        this.#flags[slot] = PTE_RW;
        this.#addr[slot] = child;
        this.#count[table]!++;
      }
      table = this.#addr[slot]!;
    }
    const slot = table * ENTRIES + indexAt(iova, leafLevel);
    const old = this.#flags[slot]!;
    if ((old & PTE_RW) === 0) this.#count[table]!++;
    else if (leafLevel > 1 && (old & PTE_PS) === 0) this.#freeTree(this.#addr[slot]!, leafLevel - 1); // an empty table left behind
    this.#flags[slot] = perm | (leafLevel > 1 ? PTE_PS : 0);
    this.#addr[slot] = paddr / PAGE_SIZE;
  }

  /** first mapped IOVA in [start, end) below `table` (which maps from `base`), or −1 */
  #firstMapped(table: number, level: number, base: number, start: number, end: number): number {
    const span = SPAN[level]!;
    const first = Math.floor((Math.max(start, base) - base) / span);
    const last = Math.min(ENTRIES - 1, Math.floor((end - 1 - base) / span));
    for (let i = first; i <= last; i++) {
      const slot = table * ENTRIES + i;
      const f = this.#flags[slot]!;
      if ((f & PTE_RW) === 0) continue;
      const entryBase = base + i * span;
      if (level === 1 || (f & PTE_PS) !== 0) return Math.max(start, entryBase);
      const found = this.#firstMapped(this.#addr[slot]!, level - 1, entryBase, start, end);
      if (found >= 0) return found;
    }
    return -1;
  }

  #unmapIn(table: number, level: number, base: number, start: number, end: number): number {
    const span = SPAN[level]!;
    const first = Math.floor((Math.max(start, base) - base) / span);
    const last = Math.min(ENTRIES - 1, Math.floor((end - 1 - base) / span));
    let removed = 0;
    for (let i = first; i <= last; i++) {
      const slot = table * ENTRIES + i;
      const f = this.#flags[slot]!;
      if ((f & PTE_RW) === 0) continue;
      const entryBase = base + i * span;
      const whole = start <= entryBase && entryBase + span <= end;
      const leaf = level === 1 || (f & PTE_PS) !== 0;
      if (leaf && whole) {
        this.#flags[slot] = 0;
        this.#addr[slot] = 0;
        this.#count[table]!--;
        removed += span;
        continue;
      }
      if (leaf) this.#split(slot, level);
      const child = this.#addr[slot]!;
      removed += this.#unmapIn(child, level - 1, entryBase, start, end);
      if (this.#count[child] === 0) {
        this.#freeTables.push(child);
        this.#flags[slot] = 0;
        this.#addr[slot] = 0;
        this.#count[table]!--;
      }
    }
    return removed;
  }

  /** replaces the superpage at `slot` by a table of 512 entries one level down mapping the same range */
  #split(slot: number, level: number): void {
    const perm = this.#flags[slot]! & PTE_RW;
    const frame = this.#addr[slot]!;
    const child = this.#allocTable();
    const childLevel = level - 1;
    const framesPerEntry = SPAN[childLevel]! / PAGE_SIZE;
    const flags = perm | (childLevel > 1 ? PTE_PS : 0);
    for (let i = 0; i < ENTRIES; i++) {
      this.#flags[child * ENTRIES + i] = flags;
      this.#addr[child * ENTRIES + i] = frame + i * framesPerEntry;
    }
    this.#count[child] = ENTRIES;
    this.#flags[slot] = PTE_RW;
    this.#addr[slot] = child;
  }
}
