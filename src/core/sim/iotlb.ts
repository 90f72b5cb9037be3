/**
 * An IOTLB in front of an IommuMachine: a direct-mapped cache of
 * (requester ID, 4 KiB page) → host page with the accesses already
 * allowed. A hit answers without the table lookups and the page walk; a
 * miss asks the machine and fills the entry; faults are not cached.
 * Entries live in typed arrays and a lookup allocates nothing.
 *
 * Like the hardware's, it is not coherent with the tables: after a
 * mapping or attachment changes, call invalidate().
 */
import { Translation } from "../program/faults.js";
import type { IommuMachine } from "../program/machine.js";
import type { Access } from "../program/page-table.js";

export interface IotlbOptions {
  /** entries, a power of two (default 512) */
  readonly entries?: number;
  /** PCI segment of the requesters (default 0) */
  readonly segment?: number;
}

export interface IotlbStats {
  readonly hits: number;
  readonly misses: number;
  readonly faults: number;
}

const PAGE = 4096;
const READ = 1;
const WRITE = 2;
/** multiplicative (Fibonacci) hashing: the top bits of (page ^ mixed requester ID) × golden ratio pick the entry */
const GOLDEN = 0x9e3779b1;
const RID_MIX = 0x85ebca6b;

export class Iotlb {
  readonly machine: IommuMachine;
  readonly segment: number;
  readonly size: number;
  /** the machine's answer to the last miss (the fault, when translate returned −1) */
  readonly last = new Translation();
  hits = 0;
  misses = 0;
  faults = 0;

  readonly #mask: number;
  readonly #shift: number;
  /** requester ID per entry; −1 when empty */
  readonly #rid: Int32Array;
  readonly #pfn: Float64Array;
  /** host address of the page */
  readonly #base: Float64Array;
  /** READ / WRITE bits the walk allowed */
  readonly #perm: Uint8Array;

  constructor(machine: IommuMachine, opts: IotlbOptions = {}) {
    const size = opts.entries ?? 512;
    if (!Number.isInteger(size) || size < 1 || (size & (size - 1)) !== 0 || size > 1 << 24) {
      throw new RangeError(`IOTLB entries must be a power of two from 1 to 2^24, not ${size}`);
    }
    this.machine = machine;
    this.segment = opts.segment ?? 0;
    this.size = size;
    this.#mask = size - 1;
    this.#shift = 32 - Math.log2(size);
    this.#rid = new Int32Array(size).fill(-1);
    this.#pfn = new Float64Array(size);
    this.#base = new Float64Array(size);
    this.#perm = new Uint8Array(size);
  }

  /** the host address for one request, or −1 when it faults (details in `last`) */
  translate(rid: number, iova: number, access: Access): number {
    const pfn = Math.floor(iova / PAGE);
    const i = (Math.imul((pfn >>> 0) ^ Math.imul(rid, RID_MIX), GOLDEN) >>> this.#shift) & this.#mask;
    const need = access === "write" ? WRITE : READ;
    if (this.#rid[i] === rid && this.#pfn[i] === pfn && (this.#perm[i] & need) !== 0) {
      this.hits++;
      return this.#base[i] + (iova - pfn * PAGE);
    }
    this.misses++;
    const out = this.machine.translate(rid, iova, access, this.last, this.segment);
    if (!out.ok) {
      this.faults++;
      return -1;
    }
    const base = out.address - (iova - pfn * PAGE);
    // the leaf's R/W bits, from the walk that just ran (PTE_READ / PTE_WRITE are bits 0 and 1, like ours);
    // an AMD DTE could still withhold IR/IW, but Linux writes both for every paging domain

    const perm = need | (out.passThrough ? 0 : (out.domain?.table?.walkPerm ?? 0) & (READ | WRITE));
    if (this.#rid[i] === rid && this.#pfn[i] === pfn && this.#base[i] === base) this.#perm[i] |= perm;
    else {
      this.#rid[i] = rid;
      this.#pfn[i] = pfn;
      this.#base[i] = base;
      this.#perm[i] = perm;
    }
    return out.address;
  }

  /** drops every entry (a global invalidation) */
  invalidate(): void {
    this.#rid.fill(-1);
  }

  /** drops the entries of one requester ID (a device-selective invalidation) */
  invalidateRid(rid: number): void {
    for (let i = 0; i < this.size; i++) if (this.#rid[i] === rid) this.#rid[i] = -1;
  }

  get stats(): IotlbStats {
    return { hits: this.hits, misses: this.misses, faults: this.faults };
  }

  resetStats(): void {
    this.hits = 0;
    this.misses = 0;
    this.faults = 0;
  }
}
