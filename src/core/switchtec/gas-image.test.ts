import { describe, expect, it } from "vitest";
import { encodeExcerpt, parseExcerpt, partitionsToCapture, tableRange, tableSizeRange } from "./excerpt.js";
import { GasReader, gasImage } from "./gas-image.js";
import { proxyAliases } from "./proxy-aliases.js";
import { dwords, tv16Image } from "./test-images.js";

describe("GasReader", () => {
  it("reads registers from sparse regions and says undefined (not captured) for absent bytes", () => {
    const g = new GasReader(gasImage([{ offset: 0x100, bytes: dwords(0x11223344) }, { offset: 0x10, bytes: new Uint8Array([1, 2]) }]));
    expect(g.u32(0x100)).toBe(0x11223344);
    expect(g.u16(0x102)).toBe(0x1122);
    expect(g.u8(0x11)).toBe(2);
    expect(g.u32(0x102)).toBeUndefined(); // runs past the region
    expect(g.u16(0x11)).toBeUndefined();
    expect(g.u8(0x12)).toBeUndefined();
    expect(g.has(0x100, 4)).toBe(true);
    expect(g.has(0xff, 2)).toBe(false);
  });

  it("merges touching and overlapping regions; later input wins an overlap", () => {
    const img = gasImage([
      { offset: 4, bytes: new Uint8Array([5, 6, 7, 8]) },
      { offset: 0, bytes: new Uint8Array([1, 2, 3, 4]) },
      { offset: 6, bytes: new Uint8Array([0xaa]) },
      { offset: 20, bytes: new Uint8Array(0) },
    ]);
    expect(img.regions).toHaveLength(1);
    expect([...img.regions[0]!.bytes]).toEqual([1, 2, 3, 4, 5, 6, 0xaa, 8]);
    expect(new GasReader(img).u32(2)).toBe(0x06050403);
  });
});

describe("resource0.excerpt", () => {
  it("round-trips: magic, then {u32 offset, u32 length, bytes} records", () => {
    const bytes = encodeExcerpt([{ offset: 0x10000, bytes: new Uint8Array([9, 1]) }, { offset: 0x1401c, bytes: dwords(2) }, { offset: 0x20, bytes: new Uint8Array(0) }]);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe("IAGASEX1");
    expect([...bytes.subarray(8, 18)]).toEqual([0x00, 0x00, 0x01, 0x00, 2, 0, 0, 0, 9, 1]);
    expect(bytes.byteLength).toBe(8 + 10 + 12);
    const img = parseExcerpt(bytes);
    expect(img.issues).toEqual([]);
    expect(new GasReader(img).u16(0x1401c)).toBe(2);
  });

  it("a TV16 image survives encode → parse with the same aliases", () => {
    expect(proxyAliases(parseExcerpt(encodeExcerpt(tv16Image().regions))).devfns).toEqual([0x80, 0x81, 0x88]);
  });

  it("damage becomes issues, never an exception", () => {
    expect(parseExcerpt(new TextEncoder().encode("garbage!")).issues[0]).toMatch(/does not start with "IAGASEX1"/);
    const good = encodeExcerpt([{ offset: 0x10000, bytes: dwords(1, 2) }, { offset: 0x14000, bytes: dwords(3) }]);
    const cut = parseExcerpt(good.subarray(0, good.byteLength - 2));
    expect(cut.issues).toEqual(["record 1 at byte 24: 4 bytes announced, 2 present"]);
    expect(cut.regions).toHaveLength(1);
    expect(parseExcerpt(good.subarray(0, 12)).issues).toEqual(["record 0 at byte 8: header cut short"]);
    const past = encodeExcerpt([{ offset: 0xfffffffe, bytes: dwords(1) }]);
    expect(parseExcerpt(past).issues[0]).toMatch(/passes 4 GiB/);
  });

  it("capture plan: ep_map low word and both high-word candidates, never the own partition", () => {
    const info = new Uint8Array(0x40);
    const v = new DataView(info.buffer);
    v.setUint8(1, 1);
    v.setUint32(4, 0b1111, true);
    v.setUint32(8, 0b10, true); // partition 33
    v.setUint32(0x24, 0b1, true); // partition 32, as the kernel misreads
    expect(partitionsToCapture(info)).toEqual([0, 2, 3, 32, 33]);
    expect(partitionsToCapture(info.subarray(0, 0x3f))).toEqual([]);
    expect(tableSizeRange(2)).toEqual({ offset: 0x1801c, size: 4 });
    expect(tableRange(2, 3)).toEqual({ offset: 0x18400, size: 12 });
    expect(tableRange(2, 0)).toBeUndefined();
    expect(tableRange(2, 513)).toBeUndefined();
    expect(tableRange(2, 512)).toEqual({ offset: 0x18400, size: 2048 });
  });
});
