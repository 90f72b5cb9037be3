import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IoPageTable, PAGE_SIZE, PERM_RW, PTE_READ, PTE_WRITE, SIZE_1G, SIZE_2M, WALK_BEYOND, WALK_DENIED, WALK_NOT_PRESENT, WALK_OK } from "./page-table.js";
import type { Access } from "./page-table.js";

const KIB4 = PAGE_SIZE;

function translate(t: IoPageTable, iova: number, access: Access = "read"): { status: number; address: number; level: number } {
  const status = t.walk(iova, access);
  return { status, address: status === WALK_OK ? t.walkAddress : -1, level: t.walkLevel };
}

describe("IoPageTable: map, walk, unmap", () => {
  it("maps 4 KiB pages and translates inside them", () => {
    const t = new IoPageTable(4);
    expect(t.map(0x1000, 0x8000_0000, 2 * KIB4, PERM_RW)).toBeUndefined();
    expect(translate(t, 0x1234)).toEqual({ status: WALK_OK, address: 0x8000_0234, level: 1 });
    expect(translate(t, 0x2fff, "write")).toEqual({ status: WALK_OK, address: 0x8000_1fff, level: 1 });
    expect(translate(t, 0x3000).status).toBe(WALK_NOT_PRESENT);
    expect(translate(t, 0x0fff).status).toBe(WALK_NOT_PRESENT);
  });

  it("read-only and write-only pages deny the other access", () => {
    const t = new IoPageTable(4);
    t.map(0, 0x10_0000, KIB4, PTE_READ);
    t.map(KIB4, 0x20_0000, KIB4, PTE_WRITE);
    expect(translate(t, 0, "read").status).toBe(WALK_OK);
    expect(translate(t, 0, "write").status).toBe(WALK_DENIED);
    expect(translate(t, KIB4, "write").status).toBe(WALK_OK);
    expect(translate(t, KIB4, "read").status).toBe(WALK_DENIED);
  });

  it("uses 2 MiB and 1 GiB superpages where IOVA, address and size line up", () => {
    const t = new IoPageTable(4);
    expect(t.map(SIZE_1G, 2 * SIZE_1G, SIZE_1G, PERM_RW)).toBeUndefined();
    expect(t.map(SIZE_2M, 0x4000_0000_0, SIZE_2M, PERM_RW)).toBeUndefined();
    expect(translate(t, SIZE_1G + 0x1234_5678)).toEqual({ status: WALK_OK, address: 2 * SIZE_1G + 0x1234_5678, level: 3 });
    expect(translate(t, SIZE_2M + 0x1_2345)).toEqual({ status: WALK_OK, address: 0x4000_0000_0 + 0x1_2345, level: 2 });
    // a misaligned host address forces 4 KiB pages
    const u = new IoPageTable(4);
    u.map(0, KIB4, SIZE_2M, PERM_RW);
    expect(translate(u, 0x1000).level).toBe(1);
    // and so does turning superpages off
    const v = new IoPageTable(4);
    v.map(0, 0, SIZE_2M, PERM_RW, { superpages: false });
    expect(translate(v, 0x1f_f000)).toEqual({ status: WALK_OK, address: 0x1f_f000, level: 1 });
  });

  it("a range mixing alignments gets 4 KiB, then 2 MiB, then 4 KiB entries", () => {
    const t = new IoPageTable(4);
    t.map(SIZE_2M - KIB4, SIZE_2M - KIB4, SIZE_2M + 2 * KIB4, PERM_RW);
    expect(translate(t, SIZE_2M - KIB4).level).toBe(1);
    expect(translate(t, SIZE_2M).level).toBe(2);
    expect(translate(t, 2 * SIZE_2M).level).toBe(1);
    expect(t.mappings()).toEqual([{ iova: SIZE_2M - KIB4, paddr: SIZE_2M - KIB4, size: SIZE_2M + 2 * KIB4, perm: PERM_RW }]);
  });

  it("unmapping part of a superpage splits it and unmaps exactly the range", () => {
    const t = new IoPageTable(4);
    t.map(0, SIZE_1G, SIZE_1G, PERM_RW);
    expect(t.unmap(SIZE_2M + KIB4, KIB4)).toBe(KIB4);
    expect(translate(t, SIZE_2M + KIB4).status).toBe(WALK_NOT_PRESENT);
    expect(translate(t, SIZE_2M)).toEqual({ status: WALK_OK, address: SIZE_1G + SIZE_2M, level: 1 });
    expect(translate(t, SIZE_2M + 2 * KIB4).address).toBe(SIZE_1G + SIZE_2M + 2 * KIB4);
    expect(translate(t, 0)).toEqual({ status: WALK_OK, address: SIZE_1G, level: 2 });
    expect(translate(t, SIZE_1G - 1).address).toBe(2 * SIZE_1G - 1);
    expect(t.mappings()).toEqual([
      { iova: 0, paddr: SIZE_1G, size: SIZE_2M + KIB4, perm: PERM_RW },
      { iova: SIZE_2M + 2 * KIB4, paddr: SIZE_1G + SIZE_2M + 2 * KIB4, size: SIZE_1G - SIZE_2M - 2 * KIB4, perm: PERM_RW },
    ]);
  });

  it("unmap returns the bytes that were mapped and frees empty tables", () => {
    const t = new IoPageTable(4);
    t.map(0x10_0000, 0, 16 * KIB4, PERM_RW);
    expect(t.tableCount).toBe(4);
    expect(t.unmap(0, SIZE_2M)).toBe(16 * KIB4);
    expect(t.unmap(0, SIZE_2M)).toBe(0);
    expect(t.tableCount).toBe(1);
    expect(t.mappings()).toEqual([]);
  });

  it("refuses overlapping, misaligned, empty and out-of-width requests without changing anything", () => {
    const t = new IoPageTable(3);
    expect(t.width).toBe(39);
    t.map(0x5000, 0, KIB4, PERM_RW);
    expect(t.map(0x4000, 0x9000, 3 * KIB4, PERM_RW)).toEqual({ code: "already-mapped", iova: 0x5000 });
    expect(translate(t, 0x4000).status).toBe(WALK_NOT_PRESENT);
    expect(t.map(0x4001, 0, KIB4, PERM_RW)).toEqual({ code: "unaligned", field: "iova", value: 0x4001 });
    expect(t.map(0x4000, 0x10, KIB4, PERM_RW)).toEqual({ code: "unaligned", field: "paddr", value: 0x10 });
    expect(t.map(0x4000, 0, 100, PERM_RW)).toEqual({ code: "unaligned", field: "size", value: 100 });
    expect(t.map(0x4000, 0, 0, PERM_RW)).toEqual({ code: "empty-range" });
    expect(t.map(0x4000, 0, KIB4, 0)).toEqual({ code: "no-permission", perm: 0 });
    expect(t.map(2 ** 39 - KIB4, 0, 2 * KIB4, PERM_RW)).toEqual({ code: "beyond-width", iova: 2 ** 39 - KIB4, size: 2 * KIB4, width: 39 });
    expect(t.map(0x8000, 2 ** 52, KIB4, PERM_RW)).toEqual({ code: "paddr-beyond-limit", paddr: 2 ** 52, size: KIB4 });
    expect(t.unmap(0x1001, KIB4)).toEqual({ code: "unaligned", field: "iova", value: 0x1001 });
    expect(t.mappings()).toEqual([{ iova: 0x5000, paddr: 0, size: KIB4, perm: PERM_RW }]);
  });

  it("a walk beyond the input width stops before the first level", () => {
    const t3 = new IoPageTable(3);
    expect(translate(t3, 2 ** 39).status).toBe(WALK_BEYOND);
    expect(translate(t3, -1).status).toBe(WALK_BEYOND);
    const t5 = new IoPageTable(5);
    expect(t5.width).toBe(57);
    expect(t5.map(2 ** 50, 2 ** 40, SIZE_2M, PERM_RW)).toBeUndefined();
    expect(translate(t5, 2 ** 50 + 0x10)).toEqual({ status: WALK_OK, address: 2 ** 40 + 0x10, level: 2 });
  });

  it("grows its table storage as tables are added", () => {
    const t = new IoPageTable(4);
    for (let i = 0; i < 40; i++) expect(t.map(i * SIZE_1G, i * KIB4, KIB4, PERM_RW)).toBeUndefined();
    expect(t.tableCount).toBe(1 + 1 + 40 * 2);
    for (let i = 0; i < 40; i++) expect(translate(t, i * SIZE_1G + 8).address).toBe(i * KIB4 + 8);
  });
});

/** the reference: one map entry per 4 KiB page */
class PageModel {
  readonly pages = new Map<number, { frame: number; perm: number }>();

  map(iova: number, paddr: number, size: number, perm: number): boolean {
    const first = iova / KIB4;
    const n = size / KIB4;
    for (let i = 0; i < n; i++) if (this.pages.has(first + i)) return false;
    for (let i = 0; i < n; i++) this.pages.set(first + i, { frame: paddr / KIB4 + i, perm });
    return true;
  }

  unmap(iova: number, size: number): number {
    let removed = 0;
    for (let i = 0; i < size / KIB4; i++) if (this.pages.delete(iova / KIB4 + i)) removed += KIB4;
    return removed;
  }

  walk(iova: number, access: Access): { status: number; address: number } {
    const p = this.pages.get(Math.floor(iova / KIB4));
    if (!p) return { status: WALK_NOT_PRESENT, address: -1 };
    if ((p.perm & (access === "write" ? PTE_WRITE : PTE_READ)) === 0) return { status: WALK_DENIED, address: -1 };
    return { status: WALK_OK, address: p.frame * KIB4 + (iova % KIB4) };
  }
}

describe("IoPageTable against a page-by-page model (property)", () => {
  // a window of 16 MiB plus a far region, so 2 MiB superpages, splits and collisions all happen
  const WINDOW_PAGES = 4096;
  const FAR = 2 ** 40 / KIB4;
  const pageIndex = fc.oneof(
    fc.integer({ min: 0, max: WINDOW_PAGES - 1 }),
    fc.integer({ min: 0, max: WINDOW_PAGES / 512 - 1 }).map((x) => x * 512),
    fc.integer({ min: 0, max: 1023 }).map((x) => FAR + x),
  );
  const pageCount = fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constantFrom(512, 513, 1024, 1535));
  const op = fc.oneof(
    fc.record({ kind: fc.constant("map" as const), page: pageIndex, count: pageCount, frame: fc.oneof(fc.integer({ min: 0, max: 2 ** 20 }), fc.integer({ min: 0, max: 2 ** 11 }).map((x) => x * 512)), perm: fc.constantFrom(1, 2, 3) }),
    fc.record({ kind: fc.constant("unmap" as const), page: pageIndex, count: pageCount }),
  );
  const probe = fc.record({ iova: fc.oneof(fc.integer({ min: 0, max: WINDOW_PAGES * KIB4 + KIB4 }), fc.integer({ min: FAR * KIB4, max: (FAR + 1100) * KIB4 })), write: fc.boolean() });

  it("every walk agrees with the model after random maps and unmaps", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), fc.array(probe, { minLength: 1, maxLength: 60 }), (ops, probes) => {
        const table = new IoPageTable(4);
        const model = new PageModel();
        for (const o of ops) {
          if (o.kind === "map") {
            const err = table.map(o.page * KIB4, o.frame * KIB4, o.count * KIB4, o.perm);
            expect(err === undefined).toBe(model.map(o.page * KIB4, o.frame * KIB4, o.count * KIB4, o.perm));
          } else {
            expect(table.unmap(o.page * KIB4, o.count * KIB4)).toBe(model.unmap(o.page * KIB4, o.count * KIB4));
          }
        }
        for (const p of probes) {
          const access: Access = p.write ? "write" : "read";
          const want = model.walk(p.iova, access);
          const status = table.walk(p.iova, access);
          expect({ status, address: status === WALK_OK ? table.walkAddress : -1 }).toEqual(want);
        }
        // every page the model holds walks to its frame (a sample when there are many)
        const wrong: string[] = [];
        const held = [...model.pages];
        const step = Math.max(1, Math.floor(held.length / 3000));
        for (let i = 0; i < held.length; i += step) {
          const [page, { frame, perm }] = held[i]!;
          const status = table.walk(page * KIB4 + 8, perm & PTE_READ ? "read" : "write");
          if (status !== WALK_OK || table.walkAddress !== frame * KIB4 + 8) wrong.push(`walk of page ${page}`);
        }
        // and the merged mapping list covers exactly the model's pages
        let pages = 0;
        for (const m of table.mappings()) {
          for (let off = 0; off < m.size; off += KIB4) {
            const want = model.pages.get((m.iova + off) / KIB4);
            if (want?.frame !== (m.paddr + off) / KIB4 || want.perm !== m.perm) wrong.push(`mapping of page ${(m.iova + off) / KIB4}`);
            pages++;
          }
        }
        expect(wrong.slice(0, 5)).toEqual([]);
        expect(pages).toBe(model.pages.size);
      }),
      { numRuns: 300 },
    );
  });
});
