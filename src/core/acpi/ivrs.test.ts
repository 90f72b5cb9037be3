import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { encodeIvhd, encodeIvrs, ivhdAliasEntry, ivhdEntry4, ivhdSpecialEntry, setAcpiChecksum, u16le, u32le, u64le } from "./encode.js";
import { formatAcpiIssue } from "./issues.js";
import { ivrsAliasOf, mergeRanges, parseIvrs, rangesContain } from "./ivrs.js";
import type { IvrsIvhd, IvrsTable } from "./ivrs.js";

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const ivhds = (t: IvrsTable): IvrsIvhd[] => t.blocks.filter((b): b is IvrsIvhd => b.kind === "ivhd");
const codes = (t: IvrsTable): string[] => t.issues.map((i) => i.code);
const aliasesOf = (t: IvrsTable, segment = 0): [number, number][] => [...(t.aliasTable.get(segment) ?? new Map<number, number>())];

describe("real IVRS tables (QEMU 7.2 q35, amd-iommu)", () => {
  test("qemu-q35-amd-pxb: one IVHD 0x10 for the IOMMU at 00:01.0, ranges for each port's bus", () => {
    const t = parseIvrs(fixture("qemu-q35-amd-pxb.IVRS"));
    expect(t.issues).toEqual([]);
    expect(t.header).toMatchObject({ signature: "IVRS", length: 140, revision: 1, checksumValid: true, oemId: "BOCHS" });
    expect(t.ivinfo).toBe(0x2800);
    expect(t.ivinfoFields).toEqual({ efrSupported: false, guestVirtualAddressSize: 0, physicalAddressSize: 40, virtualAddressSize: 0 });
    expect(t.blocks).toHaveLength(1);
    expect(t.usedIvhdType).toBe(0x10);
    const [h] = ivhds(t);
    expect(h).toMatchObject({
      type: 0x10,
      offset: 0x30,
      length: 92,
      flags: 0xd1,
      iommuBdf: 0x0008,
      capOffset: 0x40,
      mmioBase: 0xfed80000n,
      segment: 0,
      info: 0,
      attributes: 0x44,
      efr: undefined,
    });
    expect(h!.entries.map((e) => `${e.kind}:${e.devid.toString(16)}`)).toEqual([
      "select:0",
      "select:8",
      "select:10",
      "range-start:100",
      "range-end:1ff",
      "select:48",
      "select:f8",
      "select:fa",
      "select:fb",
      "select:4000",
      "range-start:4100",
      "range-end:41ff",
      "select:4001",
      "range-start:4200",
      "range-end:42ff",
      "special:0",
    ]);
    expect(h!.entries.at(-1)).toMatchObject({ kind: "special", offset: 0x84, handle: 0, specialDevid: 0x00a0, variety: 1 });
    expect(h!.derived.devids).toEqual([
      { start: 0x00, end: 0x00 },
      { start: 0x08, end: 0x08 },
      { start: 0x10, end: 0x10 },
      { start: 0x48, end: 0x48 },
      { start: 0xf8, end: 0xf8 },
      { start: 0xfa, end: 0xfb },
      { start: 0x100, end: 0x1ff },
      { start: 0x4000, end: 0x4001 },
      { start: 0x4100, end: 0x42ff },
    ]);
    expect(h!.derived.specials).toEqual([{ devid: 0xa0, kind: "ioapic", id: 0, offset: 0x84 }]);
    expect(h!.derived.lastDevid).toBe(0x42ff);
    expect(t.aliasTable.get(0)?.size ?? 0).toBe(0);
  });

  test("qemu-q35-amd-pci-bridge-alias-ranges: 0x43 ranges alias conventional buses", () => {
    const t = parseIvrs(fixture("qemu-q35-amd-pci-bridge-alias-ranges.IVRS"));
    expect(t.issues).toEqual([]);
    expect(t.usedIvhdType).toBe(0x10);
    const [h] = ivhds(t);
    expect(h!.iommuBdf).toBe(0x0008);
    const aliasStarts = h!.entries.filter((e) => e.kind === "alias-range-start");
    // pcie-pci-bridge 01:00.0 → buses 2–3 as (02:00.0); pci-bridge 04:00.0 on a root port → bus 5 as the bridge itself
    expect(aliasStarts).toMatchObject([
      { offset: 0x58, devid: 0x0200, alias: 0x0200 },
      { offset: 0x6c, devid: 0x0500, alias: 0x0400 },
    ]);
    const table = t.aliasTable.get(0)!;
    expect(table.size).toBe(0x200 + 0x100);
    expect(ivrsAliasOf(t, 0, 0x0208)).toBe(0x0200);
    expect(ivrsAliasOf(t, 0, 0x0318)).toBe(0x0200);
    expect(ivrsAliasOf(t, 0, 0x0508)).toBe(0x0400);
    expect(ivrsAliasOf(t, 0, 0x0400)).toBe(0x0400); // no write: identity
    expect(ivrsAliasOf(t, 0, 0x0100)).toBe(0x0100);
    expect(h!.derived.devids).toEqual([
      { start: 0x00, end: 0x00 },
      { start: 0x08, end: 0x08 },
      { start: 0x10, end: 0x10 },
      { start: 0x18, end: 0x18 },
      { start: 0xf8, end: 0xf8 },
      { start: 0xfa, end: 0xfb },
      { start: 0x100, end: 0x100 },
      { start: 0x200, end: 0x400 }, // bus 2–3 aliased to 02:00.0, plus 04:00.0 (the pci-bridge on the second root port)
      { start: 0x500, end: 0x5ff },
    ]);
    expect(h!.derived.lastDevid).toBe(0x5ff);
  });
});

describe("synthetic IVRS", () => {
  test("TV21: 0x42 sets alias_table[0x0301] = 0x0300 and gives both settings; 0x43 + 0x04 alias a range", () => {
    const t = parseIvrs(
      encodeIvrs([
        encodeIvhd({
          type: 0x10,
          iommuBdf: 0x0002,
          entries: [
            ivhdEntry4(0x02, 0x0300),
            ivhdAliasEntry(0x42, 0x0301, 0x0300, 0x40),
            ivhdAliasEntry(0x43, 0x0500, 0x0400),
            ivhdEntry4(0x04, 0x0503),
          ],
        }),
      ]),
    );
    expect(t.issues).toEqual([]);
    expect(aliasesOf(t)).toEqual([
      [0x0301, 0x0300],
      [0x0500, 0x0400],
      [0x0501, 0x0400],
      [0x0502, 0x0400],
      [0x0503, 0x0400],
    ]);
    expect(ivrsAliasOf(t, 0, 0x0300)).toBe(0x0300);
    expect(ivrsAliasOf(t, 1, 0x0301)).toBe(0x0301); // other segment
    const [h] = ivhds(t);
    expect(h!.entries[1]).toMatchObject({ kind: "alias-select", devid: 0x0301, alias: 0x0300, dteSetting: 0x40, length: 8 });
    expect(h!.derived.devids).toEqual([
      { start: 0x0300, end: 0x0301 },
      { start: 0x0400, end: 0x0400 },
      { start: 0x0500, end: 0x0503 },
    ]);
    expect(h!.derived.lastDevid).toBe(0x0503);
  });

  test("ALL covers every devid and makes last_bdf 0xffff", () => {
    const t = parseIvrs(encodeIvrs([encodeIvhd({ type: 0x10, iommuBdf: 0x0002, entries: [ivhdEntry4(0x01, 0, 0x01), ivhdEntry4(0x00, 0)] })]));
    expect(t.issues).toEqual([]);
    const [h] = ivhds(t);
    expect(h!.entries.map((e) => e.kind)).toEqual(["all", "pad"]);
    expect(h!.derived.devids).toEqual([{ start: 0, end: 0xffff }]);
    expect(h!.derived.lastDevid).toBe(0xffff);
  });

  test("extended entries, HPET special, and ACPI HID entries in a type 0x40 block", () => {
    const hid = [
      0xf0,
      ...u16le(0x00a5),
      0,
      ..."AMDI0020".split("").map((c) => c.charCodeAt(0)),
      ...new Array<number>(8).fill(0),
      2, // UID is a string
      2, // UID length
      ..."ID".split("").map((c) => c.charCodeAt(0)),
    ];
    const t = parseIvrs(
      encodeIvrs([
        encodeIvhd({
          type: 0x40,
          iommuBdf: 0x0002,
          efr: 0x1234n,
          entries: [
            [0x46, ...u16le(0x0010), 0, ...u32le(0x80000000)],
            [0x47, ...u16le(0x0100), 0, ...u32le(0)],
            ivhdEntry4(0x04, 0x01ff),
            ivhdSpecialEntry(0, 0x00a7, 2),
            hid,
          ],
        }),
      ], 0x0029_2841),
    );
    expect(t.issues).toEqual([]);
    expect(t.ivinfoFields).toEqual({ efrSupported: true, guestVirtualAddressSize: 2, physicalAddressSize: 0x28, virtualAddressSize: 0x52 });
    const [h] = ivhds(t);
    expect(h!.efr).toBe(0x1234n);
    expect(h!.entries.map((e) => e.kind)).toEqual(["ext-select", "ext-range-start", "range-end", "special", "acpi-hid"]);
    expect(h!.entries[0]).toMatchObject({ extSetting: 0x80000000 });
    expect(h!.entries[4]).toMatchObject({ kind: "acpi-hid", devid: 0xa5, hid: "AMDI0020", cid: "", uidFormat: 2, uid: "ID", length: 24 });
    expect(h!.derived.devids).toEqual([
      { start: 0x10, end: 0x10 },
      { start: 0x100, end: 0x1ff },
    ]);
    expect(h!.derived.specials).toEqual([
      { devid: 0xa7, kind: "hpet", id: 0, offset: h!.entries[3]!.offset },
      { devid: 0xa5, kind: "acpi-hid", id: "AMDI0020", offset: h!.entries[4]!.offset },
    ]);
  });

  test("IVMD blocks", () => {
    const ivmd = [0x21, 0x07, ...u16le(32), ...u16le(0x0300), ...u16le(0), ...new Array<number>(8).fill(0), ...u64le(0xfd000000n), ...u64le(0x1000n)];
    const t = parseIvrs(encodeIvrs([encodeIvhd({ type: 0x10, iommuBdf: 2, entries: [ivhdEntry4(2, 0x300)] }), ivmd]));
    expect(t.issues).toEqual([]);
    expect(t.blocks[1]).toEqual({
      kind: "ivmd",
      type: 0x21,
      offset: 0x30 + 28,
      length: 32,
      flags: 7,
      unity: true,
      readable: true,
      writable: true,
      exclusion: false,
      devid: 0x0300,
      auxData: 0,
      startAddress: 0xfd000000n,
      blockLength: 0x1000n,
    });
    expect(t.usedIvhdType).toBe(0x10);
  });
});

describe("which IVHD type Linux uses", () => {
  const hd = (type: number, bdf: number, entries: number[][] = [ivhdEntry4(2, 0x10)]): number[] =>
    encodeIvhd({ type, iommuBdf: bdf, entries });

  test("0x10 and 0x11 for the same IOMMU: the later type wins, only those blocks count", () => {
    const t = parseIvrs(encodeIvrs([hd(0x10, 2, [ivhdAliasEntry(0x42, 0x10, 0x11)]), hd(0x11, 2, [ivhdAliasEntry(0x42, 0x20, 0x21)])]));
    expect(t.issues).toEqual([]);
    expect(t.usedIvhdType).toBe(0x11);
    expect(aliasesOf(t)).toEqual([[0x20, 0x21]]);
  });

  test("a later block for another IOMMU does not change the choice", () => {
    expect(parseIvrs(encodeIvrs([hd(0x10, 2), hd(0x11, 0x0a)])).usedIvhdType).toBe(0x10);
  });

  test("the walk stops at the first block type above 0x40", () => {
    const odd = [0x41, 0, ...u16le(8), ...u16le(2), 0, 0];
    const t = parseIvrs(encodeIvrs([hd(0x10, 2), odd, hd(0x40, 2)]));
    expect(t.blocks.map((b) => b.kind)).toEqual(["ivhd", "unknown", "ivhd"]);
    expect(t.usedIvhdType).toBe(0x10);
  });

  test("an IVMD with the first block's device id is taken too, as in the kernel", () => {
    const ivmd = [0x21, 0, ...u16le(32), ...u16le(2), ...new Array<number>(26).fill(0)];
    const t = parseIvrs(encodeIvrs([hd(0x10, 2), ivmd]));
    expect(t.usedIvhdType).toBe(0x21);
    expect(t.issues).toEqual([{ code: "ivhd-type-unsupported", table: "IVRS", offset: 0x30 + 28, blockType: 0x21 }]);
  });
});

describe("malformed IVRS become issues, never exceptions", () => {
  const one = (entries: number[][], type = 0x10): IvrsTable => parseIvrs(encodeIvrs([encodeIvhd({ type, iommuBdf: 2, entries })]));
  const ENTRIES = 0x30 + 24;

  test("bad signature, truncated, length and checksum", () => {
    const b = encodeIvrs([encodeIvhd({ type: 0x10, iommuBdf: 2, entries: [ivhdEntry4(2, 0x10)] })]);
    expect(codes(parseIvrs(b.subarray(0, 30)))).toEqual(["table-truncated"]);
    const sig = b.slice();
    sig.set([0x44, 0x4d, 0x41, 0x52], 0);
    expect(parseIvrs(setAcpiChecksum(sig)).issues).toEqual([{ code: "bad-signature", table: "IVRS", offset: 0, expected: "IVRS", found: "DMAR" }]);
    const short = b.slice(0, 44);
    short.set(u32le(44), 4);
    const t = parseIvrs(setAcpiChecksum(short));
    expect(t.issues).toEqual([{ code: "table-truncated", table: "IVRS", offset: 0, needed: 48, available: 44 }]);
    expect(t.ivinfo).toBe(0x2800);
    const sum = b.slice();
    sum[20] = 0x55;
    expect(codes(parseIvrs(sum))).toEqual(["bad-checksum"]);
  });

  test("an IVRS without blocks", () => {
    expect(codes(parseIvrs(encodeIvrs([])))).toEqual(["ivrs-no-blocks"]);
  });

  test("block of length 0, past the end, too short, truncated header", () => {
    const zero = encodeIvrs([encodeIvhd({ type: 0x10, iommuBdf: 2, entries: [] })]);
    zero.set(u16le(0), 0x32);
    expect(parseIvrs(setAcpiChecksum(zero)).issues).toEqual([{ code: "structure-zero-length", table: "IVRS", offset: 0x30, type: 0x10 }]);
    const long = encodeIvrs([encodeIvhd({ type: 0x10, iommuBdf: 2, entries: [] })]);
    long.set(u16le(100), 0x32);
    expect(parseIvrs(setAcpiChecksum(long)).issues).toEqual([
      { code: "structure-past-end", table: "IVRS", offset: 0x30, type: 0x10, length: 100, available: 24 },
    ]);
    const short = parseIvrs(encodeIvrs([[0x11, 0, ...u16le(24), ...new Array<number>(20).fill(0)]]));
    expect(short.issues).toEqual([{ code: "structure-too-short", table: "IVRS", offset: 0x30, type: 0x11, length: 24, minimum: 40 }]);
    expect(short.blocks).toEqual([{ kind: "invalid", type: 0x11, offset: 0x30, length: 24 }]);
    expect(codes(parseIvrs(encodeIvrs([[0x10, 0, 0]])))).toEqual(["structure-header-truncated"]);
  });

  test("range start without end", () => {
    const t = one([ivhdEntry4(3, 0x100), ivhdEntry4(2, 0x10)]);
    expect(t.issues).toEqual([{ code: "ivhd-range-unterminated", table: "IVRS", offset: ENTRIES, entryType: 3, devid: 0x100 }]);
    expect(formatAcpiIssue(t.issues[0]!)).toBe("IVRS offset 0x48: IVHD range start (type 0x03) at 01:00.0 has no range end");
    expect(ivhds(t)[0]!.derived.devids).toEqual([{ start: 0x10, end: 0x10 }]);
  });

  test("a second range start replaces an open one", () => {
    const t = one([ivhdEntry4(3, 0x100), ivhdAliasEntry(0x43, 0x200, 0x1f8), ivhdEntry4(4, 0x2ff)]);
    expect(codes(t)).toEqual(["ivhd-range-unterminated"]);
    expect(ivhds(t)[0]!.derived.devids).toEqual([
      { start: 0x1f8, end: 0x1f8 },
      { start: 0x200, end: 0x2ff },
    ]);
  });

  test("range end without start reuses the kernel's stale start (0 at first)", () => {
    const t = one([ivhdEntry4(4, 0x0003)]);
    expect(t.issues).toEqual([{ code: "ivhd-range-end-without-start", table: "IVRS", offset: ENTRIES, devid: 3 }]);
    expect(ivhds(t)[0]!.derived.devids).toEqual([{ start: 0, end: 3 }]);
  });

  test("reversed range", () => {
    const t = one([ivhdEntry4(3, 0x200), ivhdEntry4(4, 0x100)]);
    expect(t.issues).toEqual([{ code: "ivhd-range-reversed", table: "IVRS", offset: ENTRIES + 4, start: 0x200, end: 0x100 }]);
    expect(ivhds(t)[0]!.derived.devids).toEqual([]);
  });

  test("entry type whose length cannot be known stops the block, not the table", () => {
    const t = parseIvrs(
      encodeIvrs([
        encodeIvhd({ type: 0x10, iommuBdf: 2, entries: [ivhdEntry4(2, 0x10), [0x80, 0, 0, 0], ivhdEntry4(2, 0x18)] }),
        encodeIvhd({ type: 0x10, iommuBdf: 0x0a, entries: [ivhdEntry4(2, 0x20)] }),
      ]),
    );
    expect(t.issues).toEqual([{ code: "ivhd-entry-unknown-length", table: "IVRS", offset: ENTRIES + 4, entryType: 0x80 }]);
    expect(ivhds(t).map((h) => h.entries.length)).toEqual([1, 1]);
  });

  test("entries running past the block", () => {
    const t = one([ivhdEntry4(2, 0x10), [0x42, 0, 1, 0]]);
    expect(t.issues).toEqual([{ code: "ivhd-entry-past-end", table: "IVRS", offset: ENTRIES + 4, entryType: 0x42, length: 8, available: 4 }]);
    const hidShort = one([[0xf0, 0, 0, 0, 0x41, 0x42]], 0x40);
    expect(hidShort.issues).toEqual([{ code: "ivhd-entry-past-end", table: "IVRS", offset: 0x30 + 40, entryType: 0xf0, length: 22, available: 6 }]);
  });

  test("ACPI HID entry outside a type 0x40 block, and with an empty HID", () => {
    const hid = (first: number): number[] => [0xf0, ...u16le(0xa5), 0, first, ...new Array<number>(15).fill(0), 0, 0];
    const t = one([hid(0x41)]);
    expect(t.issues).toEqual([{ code: "ivhd-acpi-hid-misplaced", table: "IVRS", offset: ENTRIES, blockType: 0x10 }]);
    expect(codes(one([hid(0)], 0x40))).toEqual(["ivhd-acpi-hid-empty"]);
  });

  test("special entry of unknown variety is fatal for AMD-Vi", () => {
    const t = one([ivhdSpecialEntry(0, 0xa0, 3)]);
    expect(t.issues).toEqual([{ code: "ivhd-special-variety-unknown", table: "IVRS", offset: ENTRIES, variety: 3 }]);
    expect(ivhds(t)[0]!.derived.fatal).toBe(true);
  });

  test("random bytes never throw", () => {
    const good = encodeIvrs([
      encodeIvhd({
        type: 0x40,
        iommuBdf: 2,
        entries: [ivhdEntry4(2, 0), ivhdEntry4(3, 0x100), ivhdEntry4(4, 0x1ff), ivhdAliasEntry(0x43, 0x200, 0x200), ivhdEntry4(4, 0x2ff), ivhdSpecialEntry(0, 0xa0, 1)],
      }),
    ]);
    let seed = 99;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let n = 0; n < 300; n++) {
      const b = good.slice();
      for (let k = 0; k < 6; k++) b[36 + (rnd() % (b.length - 36))] = rnd();
      const cut = b.subarray(0, 36 + (rnd() % (b.length - 35)));
      expect(() => parseIvrs(cut)).not.toThrow();
      for (const issue of parseIvrs(cut).issues) expect(formatAcpiIssue(issue)).not.toMatch(/undefined|NaN/);
    }
  });
});

test("mergeRanges / rangesContain", () => {
  const merged = mergeRanges([
    { start: 5, end: 9 },
    { start: 0, end: 2 },
    { start: 3, end: 3 },
    { start: 8, end: 12 },
    { start: 20, end: 20 },
  ]);
  expect(merged).toEqual([
    { start: 0, end: 3 },
    { start: 5, end: 12 },
    { start: 20, end: 20 },
  ]);
  expect([0, 3, 4, 5, 12, 13, 20, 21].map((d) => rangesContain(merged, d))).toEqual([true, true, false, true, true, false, true, false]);
});
